"""`codeact sandbox check` (the typer sub-app in codeact.runtime.cli)."""

import pytest
from typer.testing import CliRunner

from codeact.runtime import cli
from codeact.runtime.sandboxes import bwrap


@pytest.mark.slow
def test_check_prints_all_attacks_blocked():
    r = CliRunner().invoke(cli.app, ["check"], terminal_width=160)
    assert r.exit_code == 0, r.output
    assert "bubblewrap: ok" in r.output
    assert "NOT BLOCKED" not in r.output and "attacks blocked" in r.output


def test_check_without_bwrap_fails_with_hint(monkeypatch):
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    r = CliRunner().invoke(cli.app, ["check"], terminal_width=200)
    assert r.exit_code == 1
    assert "apt-get install bubblewrap" in r.output


def test_check_reports_not_blocked(monkeypatch):
    from codeact.runtime import selftest

    monkeypatch.setattr(bwrap, "check_bwrap", lambda: (True, "fake"))
    monkeypatch.setattr(selftest, "run", lambda **kw: [
        selftest.AttackResult("a", True, "ok"), selftest.AttackResult("b", False, "leak")])
    r = CliRunner().invoke(cli.app, ["check"], terminal_width=200)
    assert r.exit_code == 1 and "NOT BLOCKED" in r.output


def test_kernel_env_info_and_bad_path(tmp_path):
    from typer.testing import CliRunner

    from codeact.runtime.cli import kernel_env_app

    runner = CliRunner()
    result = runner.invoke(kernel_env_app, ["info", "--kernel-env", "self"])
    assert result.exit_code == 0 and "codeact's own interpreter" in result.output
    result = runner.invoke(kernel_env_app, ["info", "--kernel-env", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such directory" in " ".join(result.output.split())


def test_check_with_runtime_runs_the_attacks_on_gateway_kernels(monkeypatch):
    """--runtime: no local bubblewrap check; the self-test gets a gateway config (the real
    run through a gateway: tests/test_runtime_kernelspec_launch.py)."""
    from codeact.runtime import selftest

    seen = {}

    def fake_run(**kw):
        seen.update(kw)
        return [selftest.AttackResult("a", True, "ok")]

    monkeypatch.setattr(bwrap, "check_bwrap", lambda: (False, "must not be asked"))
    monkeypatch.setattr(selftest, "run", fake_run)
    r = CliRunner().invoke(cli.app, ["check", "--runtime", "http://127.0.0.1:1,http://h:2",
                                     "--runtime-token", "t", "--runtime-kernel", "codeact"],
                           terminal_width=200)
    assert r.exit_code == 0, r.output
    cfg = seen["config"]
    assert (cfg.backend, cfg.gateway_urls, cfg.gateway_token, cfg.gateway_kernel) == (
        "gateway", ("http://127.0.0.1:1", "http://h:2"), "t", "codeact")
    assert selftest.is_remote(cfg) and "all 1 attacks blocked" in r.output


def test_check_with_runtime_refuses_a_plain_kernelspec_in_one_line(gateway, monkeypatch):
    """A real gateway: its python3 kernelspec is not codeact's sandbox, so the self-test
    does not run on it (one line, exit 1). Should that regress, the attacks must not run
    for real in an unsandboxed kernel (they write to /usr and signal this process)."""
    from codeact.runtime import selftest

    def refuse_attacks(*args, **kw):
        raise AssertionError("the self-test's attacks ran on an unsandboxed kernelspec")

    monkeypatch.setattr(selftest, "run_attack", refuse_attacks)
    r = CliRunner().invoke(cli.app, ["check", "--runtime", gateway.url, "--runtime-token",
                                     gateway.token, "--runtime-kernel", "python3"],
                           terminal_width=400)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    error = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "kernelspec 'python3'" in error[0]
    assert "is not sandboxed" in error[0]
