"""The public API: what ``codeact`` and its packages export, and that importing it is cheap."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import warnings
import zipfile
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import codeact
from codeact.errors import CodeactError

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "llama_cpp")


@cache
def all_modules() -> tuple[ModuleType, ...]:
    """Every module of the package, imported (``__main__`` modules run a command, so they
    are left out). A module is skipped only when a third-party module it imports is not
    installed (an optional extra), and then with a warning; any other failure fails."""
    found: list[ModuleType] = []
    todo = ["codeact"]
    while todo:
        name = todo.pop()
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            missing = (exc.name or "").partition(".")[0]
            if missing in ("", "codeact") or importlib.util.find_spec(missing) is not None:
                raise
            warnings.warn(f"{name} not checked: {missing} is not installed", stacklevel=1)
            continue
        found.append(module)
        if hasattr(module, "__path__"):
            todo += [f"{name}.{m.name}" for m in pkgutil.iter_modules(module.__path__)
                     if m.name != "__main__"]
    return tuple(sorted(found, key=lambda m: m.__name__))


def all_packages() -> list[str]:
    return [m.__name__ for m in all_modules() if hasattr(m, "__path__")]


def test_the_top_level_api():
    assert set(codeact.__all__) == {"Agent", "tool", "make_llm", "Session", "SandboxConfig",
                                    "Trajectory", "CodeactError", "__version__"}
    from codeact import Agent, CodeactError, SandboxConfig, Session, Trajectory, make_llm, tool
    from codeact.agent import Agent as agent_cls
    from codeact.runtime import Session as session_cls

    assert Agent is agent_cls and Session is session_cls
    assert callable(make_llm) and callable(tool)
    assert issubclass(CodeactError, Exception)
    assert SandboxConfig.__name__ == "SandboxConfig" and Trajectory.__name__ == "Trajectory"
    assert codeact.__version__ == "0.1.0"
    assert set(codeact.__all__) <= set(dir(codeact))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        codeact.Nope  # noqa: B018


def test_the_walk_finds_every_package():
    on_disk = {".".join(p.parent.relative_to(ROOT / "src").parts)
               for p in (ROOT / "src" / "codeact").rglob("__init__.py")}
    assert set(all_packages()) == on_disk
    assert {"codeact.mcp", "codeact.runtime.sandboxes", "codeact.server.routes"} <= on_disk


@pytest.mark.parametrize("package", all_packages())
def test_every_name_in_every_all_imports(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert isinstance(names, list) and names, package
    assert len(names) == len(set(names)), f"{package}.__all__ has duplicates"
    for name in names:
        assert isinstance(name, str)
        assert getattr(module, name) is not None, f"{package}.{name}"
    star: dict[str, object] = {}
    exec(f"from {package} import *", star)
    assert set(names) <= set(star)


def _imported_after(code: str) -> dict[str, bool]:
    watched = [*HEAVY, "codeact.runtime", "codeact.agent"]
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps({{m: m in sys.modules for m in {watched!r}}}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120, cwd=ROOT, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_codeact_loads_no_inference_backend_and_nothing_else_eagerly():
    loaded = _imported_after("import codeact")
    assert not any(loaded.values()), loaded  # lazy: not even the agent or the runtime


def test_the_public_names_load_no_inference_backend():
    loaded = _imported_after("from codeact import Agent")
    assert loaded["codeact.agent"] and not loaded["torch"] and not loaded["llama_cpp"]
    loaded = _imported_after("from codeact import *")
    assert loaded["codeact.runtime"] and not loaded["torch"] and not loaded["llama_cpp"]


def test_package_modules_are_reachable_lazily():
    import codeact.data
    import codeact.train

    assert codeact.data.generators.get("math").name == "math"
    assert codeact.train.masking.__name__ == "codeact.train.masking"
    with pytest.raises(AttributeError):
        codeact.data.nope  # noqa: B018


def defined_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top level of a codeact module, by dotted name
    (private ones, ``_Name``, are internal signals that never reach a caller)."""
    out: dict[str, type[BaseException]] = {}
    for module in all_modules():
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                out[f"{module.__name__}.{name}"] = value
    return out


def test_every_exception_of_the_package_is_a_codeact_error():
    found = defined_exceptions()
    assert "codeact.errors.CodeactError" in found and len(found) > 20
    outside = sorted(name for name, cls in found.items() if not issubclass(cls, CodeactError))
    assert outside == [], f"not under CodeactError: {outside}"


# The built-in base each exception had before CodeactError, kept so old handlers still work.
HISTORICAL_BASES = {
    "codeact.agent.executor.SandboxFailure": RuntimeError,
    "codeact.bench.suites.SuiteError": ValueError,
    "codeact.config.ConfigError": ValueError,
    "codeact.data.sources.SourceError": ValueError,
    "codeact.llm.base.LLMError": RuntimeError,
    "codeact.llm.models.ModelError": RuntimeError,
    "codeact.mcp.files.WorkspaceError": ValueError,
    "codeact.prompts.PromptError": ValueError,
    "codeact.runtime.cgroups.CgroupUnavailable": RuntimeError,
    "codeact.runtime.kernel_env.KernelEnvError": RuntimeError,
    "codeact.runtime.manager.SessionLimitError": RuntimeError,
    "codeact.runtime.sandboxes.base.SandboxUnavailable": RuntimeError,
    "codeact.runtime.workspace.UnsafeName": ValueError,
    "codeact.server.errors.Busy": RuntimeError,
    "codeact.server.errors.Conflict": RuntimeError,
    "codeact.server.errors.NotFound": LookupError,
    "codeact.tools.model.ToolArgumentError": ValueError,
    "codeact.tools.model.ToolLoadError": ValueError,
    "codeact.train.base.BaseModelError": ValueError,
    "codeact.train.compare.SettingsMismatch": ValueError,
    "codeact.train.data.DataError": ValueError,
    "codeact.train.distill.DistillError": ValueError,
    "codeact.train.export.ExportError": RuntimeError,
    "codeact.train.masking.TemplateError": ValueError,
    "codeact.train.trainer.TrainError": ValueError,
}


@pytest.mark.parametrize("name", sorted(HISTORICAL_BASES))
def test_exceptions_keep_their_historical_base(name):
    found = defined_exceptions()
    if name not in found:  # moved or renamed: update the table
        pytest.fail(f"{name} is not defined in codeact any more")
    assert issubclass(found[name], HISTORICAL_BASES[name])


def test_a_refusal_is_caught_as_a_codeact_error():
    from codeact.prompts import load_prompt

    with pytest.raises(CodeactError):
        load_prompt("no-such-variant", "code")


def test_the_wheel_ships_py_typed_and_the_package_data(tmp_path):
    # built from a copy, so the checkout gets no build/ or egg-info droppings
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path / "dist"
    # pip builds it as a user's install does: in an isolated environment with the
    # build-system requirements of pyproject.toml (a venv's own setuptools may be too old)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(tmp_path)], cwd=tmp_path, check=True, capture_output=True, timeout=600)
    (wheel,) = dist.glob("codeact-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "codeact/py.typed" in names
    assert "codeact/prompts/code/default.md" in names
    assert "codeact/agent/executor.py" in names and "codeact/bench/run_one.py" in names
