"""The runtime's exceptions share codeact's one base and keep their historical bases."""

import pytest

from codeact.errors import CodeactError
from codeact.runtime.cgroups import CgroupUnavailable
from codeact.runtime.kernel_env import KernelEnvError
from codeact.runtime.manager import SessionLimitError
from codeact.runtime.packages import InstallRefused
from codeact.runtime.sandboxes.base import SandboxUnavailable
from codeact.server.workspace import UnsafeName


@pytest.mark.parametrize("cls, old_base", [
    (SessionLimitError, RuntimeError), (SandboxUnavailable, RuntimeError),
    (CgroupUnavailable, RuntimeError), (KernelEnvError, RuntimeError),
    (InstallRefused, Exception), (UnsafeName, ValueError)])
def test_runtime_errors_are_codeact_errors_and_keep_their_bases(cls, old_base):
    assert issubclass(cls, CodeactError) and issubclass(cls, old_base)
    with pytest.raises(old_base):
        raise cls("refused")
