"""``codeact kernelspec install|list|remove`` on a temporary prefix."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from codeact.cli.root import app


@pytest.fixture
def prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share/jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_install_list_remove(prefix):
    runner = CliRunner()
    r = runner.invoke(app, ["kernelspec", "install", "--name", "cli-test", "--prefix",
                            str(prefix), "--memory-mb", "1024", "--max-processes", "0",
                            "--env-allow", "TZ", "--cgroups", "off"])
    assert r.exit_code == 0, r.output
    spec = json.loads((prefix / "share/jupyter/kernels/cli-test/kernel.json").read_text())
    meta = spec["metadata"]["codeact"]
    assert (meta["memory_mb"], meta["max_processes"], meta["env_allowlist"],
            meta["cgroups"]) == (1024, 0, ["TZ"], "off")
    r = runner.invoke(app, ["kernelspec", "list"])
    assert r.exit_code == 0 and "cli-test" in r.output and "memory_mb=1024" in r.output
    r = runner.invoke(app, ["kernelspec", "remove", "cli-test"])
    assert r.exit_code == 0 and "removed" in r.output
    r = runner.invoke(app, ["kernelspec", "remove", "cli-test"])
    assert r.exit_code == 2 and "no kernelspec named" in r.output


def test_user_is_the_default_and_targets_exclude_each_other(prefix):
    runner = CliRunner()
    r = runner.invoke(app, ["kernelspec", "install", "--name", "u-test"])
    assert r.exit_code == 0, r.output
    assert (prefix / "data/kernels/u-test/kernel.json").exists()
    r = runner.invoke(app, ["kernelspec", "install", "--user", "--prefix", str(prefix)])
    assert r.exit_code == 2 and "choose one" in r.output


def test_an_unsafe_spec_says_so(prefix):
    r = CliRunner().invoke(app, ["kernelspec", "install", "--name", "n", "--prefix",
                                 str(prefix), "--sandbox", "none"])
    assert r.exit_code == 0 and "UNSAFE" in r.output


def test_install_warns_where_the_sandbox_cannot_run(prefix, monkeypatch):
    from codeact.runtime.sandboxes import bwrap

    monkeypatch.setattr(bwrap, "check_bwrap", lambda: (False, "no user namespaces"))
    r = CliRunner().invoke(app, ["kernelspec", "install", "--name", "w", "--prefix",
                                 str(prefix)], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "no user namespaces" in r.output
    assert (prefix / "share/jupyter/kernels/w/kernel.json").exists()
