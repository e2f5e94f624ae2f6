"""codeact.runtime as a package: every name in each ``__all__`` imports, lazily."""

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", [
    "codeact.runtime", "codeact.runtime.sandboxes", "codeact.runtime.sandboxes.base",
    "codeact.runtime.sandboxes.environment", "codeact.runtime.kernel",
    "codeact.runtime.workspace", "codeact.runtime.session",
    "codeact.runtime.kernel_client", "codeact.runtime.kernel_process",
    "codeact.server.workspace"])
def test_all_names_resolve(module):
    mod = importlib.import_module(module)
    assert mod.__all__ and len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, (module, name)


def test_unknown_names_still_raise():
    import codeact.runtime as rt

    with pytest.raises(AttributeError):
        _ = rt.NoSuchThing  # type: ignore[attr-defined]


def test_light_modules_do_not_load_the_kernel_stack():
    """The server's workspace helpers import the runtime's path safety without zmq."""
    code = ("import sys, codeact.server.workspace, codeact.runtime.workspace\n"
            "heavy = [m for m in ('zmq', 'jupyter_client', 'codeact.runtime.session') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from codeact.runtime import Session\n"
            "assert 'codeact.runtime.session' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
