"""Kernelspecs written by codeact: the settings, the launcher's command line (the contract
with ``kernelspec_launch``), install / list / remove in a temporary prefix."""

from __future__ import annotations

import json

import pytest

from codeact.runtime.kernelspec import (
    LAUNCH_MODULE,
    METADATA_KEY,
    KernelspecError,
    KernelspecSettings,
    install,
    kernel_json,
    list_specs,
    parse_launch_args,
    remove,
)
from codeact.runtime.sandboxes import SandboxConfig


@pytest.fixture
def prefix(tmp_path, monkeypatch):
    """Jupyter looks only in this prefix (and the user's own dirs, pointed here too)."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share/jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_settings_default_to_the_local_sandbox_defaults():
    cfg = KernelspecSettings().to_config()
    local = SandboxConfig()
    for name in ("backend", "memory_mb", "max_processes", "file_size_mb", "cpu_seconds",
                 "tmp_size_mb", "open_files", "threads", "env_allowlist"):
        assert getattr(cfg, name) == getattr(local, name), name


def test_the_launcher_command_line_round_trips():
    s = KernelspecSettings(sandbox="none", memory_mb=512, max_processes=None, threads=2,
                           cgroups="off", kernel_env="/opt/env", env_allowlist=("TZ",))
    back, conn = parse_launch_args([*s.to_args(), "/run/kernel-1.json"])
    assert (back, conn) == (s, "/run/kernel-1.json")
    assert back.to_config().max_processes is None  # 0 on the command line: no limit
    with pytest.raises(KernelspecError, match="bad launcher arguments"):
        parse_launch_args(["--sandbox", "docker", "x.json"])


@pytest.mark.parametrize("bad", [{"sandbox": "docker"}, {"cgroups": "maybe"},
                                 {"memory_mb": -1}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(KernelspecError):
        KernelspecSettings(**bad)


def test_kernel_json_runs_the_launcher_with_the_connection_file():
    spec = kernel_json(KernelspecSettings(), display_name="X", python="/py")
    assert spec["argv"][:3] == ["/py", "-m", LAUNCH_MODULE]
    assert spec["argv"][-1] == "{connection_file}"
    assert spec["interrupt_mode"] == "message"
    assert spec["metadata"][METADATA_KEY]["memory_mb"] == 4096


def test_install_list_remove_in_a_prefix(prefix):
    where = install(KernelspecSettings(memory_mb=2048), name="ca-test", prefix=prefix)
    assert where == prefix / "share/jupyter/kernels/ca-test"
    spec = json.loads((where / "kernel.json").read_text())
    assert spec["argv"][spec["argv"].index("--memory-mb") + 1] == "2048"
    install(KernelspecSettings(memory_mb=1024), name="ca-test", prefix=prefix)  # replaces
    (found,) = [s for s in list_specs() if s.name == "ca-test"]
    assert found.path == where and found.settings and found.settings["memory_mb"] == 1024
    assert remove("ca-test") == where and not where.exists()
    with pytest.raises(KernelspecError, match="no kernelspec named"):
        remove("ca-test")


def test_remove_refuses_a_spec_codeact_did_not_write(prefix):
    other = prefix / "share/jupyter/kernels/plain"
    other.mkdir(parents=True)
    (other / "kernel.json").write_text(json.dumps(
        {"argv": ["python", "-m", "ipykernel", "-f", "{connection_file}"],
         "display_name": "plain", "language": "python"}))
    assert "plain" not in {s.name for s in list_specs()}
    assert "plain" in {s.name for s in list_specs(codeact_only=False)}
    with pytest.raises(KernelspecError, match="not written by codeact"):
        remove("plain")
    assert other.exists()


def test_invalid_names_and_two_targets_are_refused(prefix):
    with pytest.raises(KernelspecError, match="invalid kernelspec name"):
        install(KernelspecSettings(), name="a b", prefix=prefix)
    with pytest.raises(KernelspecError, match="choose one"):
        install(KernelspecSettings(), user=True, prefix=prefix)
