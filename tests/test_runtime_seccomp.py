"""The seccomp filter that refuses new user namespaces, run through a small classic-BPF
interpreter (the real kernel's verdicts: tests/test_runtime_sandbox.py)."""

import struct

import pytest

from codeact.runtime.sandboxes.seccomp import CLONE_NEWUSER, userns_filter

ALLOW, EPERM, ENOSYS = 0x7FFF0000, 0x00050001, 0x00050026
SIGCHLD, CLONE_NEWNS = 17, 0x00020000
MACHINES = {"x86_64": (0xC000003E, 272, 56, 435), "aarch64": (0xC00000B7, 97, 220, 435)}


def verdict(program: bytes, arch: int, nr: int, arg0: int = 0) -> int:
    """Run the filter on one call (the instructions the filter uses)."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    ins = [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = ins[pc]
        if code == 0x20:
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x06:
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        pc += 1


@pytest.mark.parametrize("machine", MACHINES)
def test_new_user_namespaces_are_refused_and_everything_else_passes(machine):
    arch, unshare, clone, clone3 = MACHINES[machine]
    program = userns_filter(machine)
    assert program is not None and len(program) % 8 == 0
    assert verdict(program, arch, unshare, CLONE_NEWUSER) == EPERM
    assert verdict(program, arch, unshare, CLONE_NEWUSER | CLONE_NEWNS) == EPERM
    assert verdict(program, arch, unshare, CLONE_NEWNS) == ALLOW
    assert verdict(program, arch, clone, CLONE_NEWUSER | SIGCHLD) == EPERM
    assert verdict(program, arch, clone, SIGCHLD) == ALLOW  # fork
    assert verdict(program, arch, clone3) == ENOSYS  # glibc falls back to clone
    assert verdict(program, arch, 0) == ALLOW and verdict(program, arch, 59) == ALLOW
    assert verdict(program, 0x40000003, unshare, CLONE_NEWUSER) == EPERM  # i386 calls
    assert verdict(program, 0x40000003, 3) == EPERM


def test_x32_calls_are_refused_on_x86_64():
    program = userns_filter("x86_64")
    assert program is not None
    assert verdict(program, 0xC000003E, 0x40000000 | 272, CLONE_NEWUSER) == EPERM
    assert verdict(program, 0xC000003E, 0x40000000 | 1) == EPERM


def test_no_filter_where_none_is_defined():
    assert userns_filter("riscv64") is None and userns_filter("ppc64le") is None
    assert userns_filter("AMD64") == userns_filter("x86_64")
