"""Tests for codeact.server.errors: one base for the project, the old bases kept."""

from __future__ import annotations

import pytest

from codeact.errors import CodeactError
from codeact.server import errors


@pytest.mark.parametrize(("cls", "old_base"), [(errors.Busy, RuntimeError),
                                              (errors.Conflict, RuntimeError),
                                              (errors.NotFound, LookupError)])
def test_server_errors_are_codeact_errors_and_keep_their_base(cls: type,
                                                              old_base: type) -> None:
    assert issubclass(cls, CodeactError) and issubclass(cls, old_base)
    with pytest.raises(old_base):  # code that caught the old base still does
        raise cls("x")
