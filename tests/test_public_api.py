"""The public API: what ``codeact`` and its packages export, and that importing it is cheap."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import codeact

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["codeact", "codeact.llm", "codeact.runtime", "codeact.bench", "codeact.server",
            "codeact.data", "codeact.train", "codeact.prompts", "codeact.notebook"]
HEAVY = ("torch", "llama_cpp")


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


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_in_every_all_imports(package):
    module = importlib.import_module(package)
    names = module.__all__
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


def test_project_exceptions_share_one_base_and_keep_their_old_one():
    from codeact.agent.executor import SandboxFailure
    from codeact.bench.suites import SuiteError
    from codeact.config import ConfigError
    from codeact.data.sources import SourceError
    from codeact.errors import CodeactError
    from codeact.llm.base import LLMError
    from codeact.llm.models import ModelError
    from codeact.prompts import PromptError, load_prompt
    from codeact.runtime.cgroups import CgroupUnavailable
    from codeact.runtime.kernel_env import KernelEnvError
    from codeact.runtime.manager import SessionLimitError
    from codeact.runtime.packages import InstallRefused
    from codeact.runtime.sandbox import SandboxUnavailable
    from codeact.runtime.workspace import UnsafeName
    from codeact.server.errors import Busy, Conflict, NotFound
    from codeact.tools import ToolArgumentError, ToolLoadError
    from codeact.train.base import BaseModelError
    from codeact.train.data import DataError
    from codeact.train.distill import DistillError
    from codeact.train.export import ExportError
    from codeact.train.masking import TemplateError
    from codeact.train.trainer import TrainError

    for cls, old in [(ConfigError, ValueError), (ToolArgumentError, ValueError),
                     (ToolLoadError, ValueError), (PromptError, ValueError),
                     (SuiteError, ValueError), (SourceError, ValueError),
                     (BaseModelError, ValueError), (DataError, ValueError),
                     (DistillError, ValueError), (ExportError, RuntimeError),
                     (TemplateError, ValueError), (TrainError, ValueError),
                     (SandboxFailure, RuntimeError), (LLMError, RuntimeError),
                     (ModelError, RuntimeError), (CgroupUnavailable, RuntimeError),
                     (KernelEnvError, RuntimeError), (SessionLimitError, RuntimeError),
                     (InstallRefused, Exception), (SandboxUnavailable, RuntimeError),
                     (UnsafeName, ValueError), (Busy, RuntimeError),
                     (Conflict, RuntimeError), (NotFound, LookupError)]:
        assert issubclass(cls, CodeactError) and issubclass(cls, old), cls
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
