"""The kernel environment: the data stack in a real sandbox, other environments, the
fallback to codeact's own interpreter, and the packages line of the system prompt."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeact.actions import CodeFormat
from codeact.runtime import SandboxConfig, Session
from codeact.runtime import kernel_env as ke

DATA_STACK = ("numpy", "pandas", "scipy", "sympy", "matplotlib", "sklearn", "openpyxl",
              "networkx", "bs4", "yaml", "tabulate")


@pytest.fixture(scope="module")
def env() -> ke.KernelEnv:
    """The default kernel environment, created here if missing (CI creates it first)."""
    path = ke.default_path()
    if not ke.is_ready(path):
        try:
            ke.create(path)
        except ke.KernelEnvError as exc:
            pytest.skip(f"no kernel environment and it cannot be created here: {exc}")
    return ke.resolve(None)


def test_data_stack_imports_in_the_sandbox(env):
    assert not env.own and env.path == str(ke.default_path())
    with Session() as s:
        obs = s.execute(f"import {', '.join(DATA_STACK)}, sys\n"
                        "import pandas as pd\n"
                        "print(sys.prefix, pd.DataFrame({'a': [1, 2]}).a.sum())")
        assert obs.ok, obs
        prefix, total = obs.stdout.split()
        assert prefix == env.path and total == "3"
        # codeact itself is not importable in the kernel, nor its own venv's packages
        assert s.execute("import codeact").error.name == "ModuleNotFoundError"
        assert s.kernel_env.packages == tuple(p for p in ke.requested() if p != "ipykernel")
        # the prompt names them as they are imported (scikit-learn is `import sklearn`)
        assert "sklearn" in s.packages and "scikit-learn" not in s.packages
        assert s.execute(f"import {', '.join(s.packages)}").ok


def test_explicit_path_and_self(env):
    explicit = ke.resolve(str(env.path))
    assert explicit.python == env.python and not explicit.own
    own = ke.resolve("self")
    assert own.own and own.python == sys.executable
    with Session(SandboxConfig(kernel_env="self")) as s:
        obs = s.execute("import sys; print(sys.executable)")
        assert obs.stdout.strip() == os.path.abspath(sys.executable)


def test_environment_without_ipykernel_is_refused(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    with pytest.raises(ke.KernelEnvError, match="has no ipykernel"):
        ke.resolve(str(venv))
    with pytest.raises(ke.KernelEnvError, match="no such directory"):
        ke.resolve(str(tmp_path / "missing"))
    with pytest.raises(ke.KernelEnvError, match="has no ipykernel"):
        Session(SandboxConfig(kernel_env=str(venv)))


def test_fallback_to_own_interpreter_when_there_is_none(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(ke, "default_path", lambda: tmp_path / "kernel-env")
    monkeypatch.delenv("CODEACT_KERNEL_ENV", raising=False)
    monkeypatch.setattr(ke, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="codeact.runtime"):
        first = ke.resolve(None)
        ke.resolve(None)
    assert first.own
    notes = [r.getMessage() for r in caplog.records if "no kernel environment" in r.getMessage()]
    assert len(notes) == 1 and "codeact kernel-env create" in notes[0]
    with Session() as s:
        assert s.execute("print(6 * 7)").stdout == "42\n"


def test_failed_creation_leaves_nothing_that_looks_ready(tmp_path, monkeypatch):
    lock = tmp_path / "bad.lock"
    lock.write_text("# requested: codeact-no-such-package-zzq\ncodeact-no-such-package-zzq==1.0\n")
    monkeypatch.setattr(ke, "LOCK_PATH", lock)
    target = tmp_path / "env"
    with pytest.raises(ke.KernelEnvError, match="installing the kernel environment failed"):
        ke.create(target)
    assert not target.exists() and list(tmp_path.iterdir()) == [lock]


def test_prompt_names_the_packages_and_keeps_the_template_hash():
    fmt = CodeFormat()
    prompt = fmt.default_prompt()
    plain = fmt.system_prompt([], prompt)
    listed = fmt.system_prompt([], prompt, packages=["numpy", "pandas"], can_install=True)
    assert "Installed Python packages, by import name: numpy, pandas (`%pip install NAME` " \
        "adds others)." in listed
    assert "Installed Python packages" not in plain
    no_pip = fmt.system_prompt([], prompt, packages=["numpy"], can_install=False)
    assert "%pip" not in no_pip
    assert fmt.default_prompt().sha == prompt.sha


def test_prompt_info_follows_the_sandbox_setting(env):
    pkgs, can = ke.prompt_info(SandboxConfig(packages="deny"))
    assert "pandas" in pkgs and can is False
    assert ke.prompt_info(SandboxConfig(kernel_env="self")) == ([], True)


def test_kernel_env_lock_is_exact_and_shipped():
    pins = ke.pins()
    assert pins and all("==" in p for p in pins)
    names = {p.split("==")[0].lower().replace("_", "-") for p in pins}
    for want in ke.requested():
        assert want.lower() in names, want
    assert Path(ke.LOCK_PATH).name == "kernel_env.lock"


def test_an_env_from_an_older_lock_is_stale_and_says_so(env, tmp_path, monkeypatch, caplog):
    newer = tmp_path / "kernel_env.lock"
    newer.write_text(ke.lock_text() + "# a later lock\n")
    monkeypatch.setattr(ke, "LOCK_PATH", newer)
    monkeypatch.setattr(ke, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="codeact.runtime"):
        stale = ke.resolve(None)
    assert stale.stale and stale.python == env.python  # still used meanwhile
    assert any("older lock" in r.getMessage() and "codeact kernel-env create" in r.getMessage()
               for r in caplog.records)


def test_packages_are_named_by_the_module_they_are_imported_by():
    imports = {"scikit-learn": ["sklearn"], "pyyaml": ["yaml"],
               "matplotlib": ["matplotlib", "mpl_toolkits", "pylab"], "beautifulsoup4": ["bs4"]}
    assert [ke.import_name(p, imports) for p in
            ("scikit-learn", "PyYAML", "matplotlib", "beautifulsoup4", "some-tool")] == \
        ["sklearn", "yaml", "matplotlib", "bs4", "some_tool"]
    env = ke.probe(sys.executable)  # a real interpreter: one module name per package
    assert len(env.modules) == len(env.packages) and all(m.isidentifier() for m in env.modules)
