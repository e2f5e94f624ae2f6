"""A seccomp filter (classic BPF, for bwrap ``--seccomp FD``) that refuses new user
namespaces inside the sandbox.

On a root host the sandbox joins a user namespace prepared for it, and bwrap cannot add
``--disable-userns`` there: without this filter model code could ``unshare -U`` and reach
namespace-only kernel code as that namespace's root. ``unshare`` and ``clone`` with
``CLONE_NEWUSER`` fail with EPERM; ``clone3`` (whose flags a filter cannot read) fails with
ENOSYS, on which glibc falls back to ``clone`` (as under Docker's default profile); every
other call passes. Another architecture's calls (i386 or x32 on x86-64) are refused.
Only x86-64 and arm64 get a filter; elsewhere :func:`userns_filter` is None.
"""

from __future__ import annotations

import platform
import struct

__all__ = ["CLONE_NEWUSER", "userns_filter"]

CLONE_NEWUSER = 0x10000000

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # args[0]'s low 32 bits (little-endian machines only)
_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_X32_BIT = 0x40000000

# machine: (AUDIT_ARCH_*, unshare, clone, clone3, whether x32 numbers exist)
_ARCHES = {"x86_64": (0xC000003E, 272, 56, 435, True),
           "aarch64": (0xC00000B7, 97, 220, 435, False)}
_ARCHES["amd64"], _ARCHES["arm64"] = _ARCHES["x86_64"], _ARCHES["aarch64"]


def userns_filter(machine: str | None = None) -> bytes | None:
    """The filter program for ``machine`` (default: this one), or None where none is
    defined."""
    spec = _ARCHES.get((machine or platform.machine()).lower())
    if spec is None:
        return None
    arch, unshare, clone, clone3, has_x32 = spec
    # (code, jump-if-true label, jump-if-false label, k); labels resolved below
    prog: list[tuple[int, str | None, str | None, int]] = [
        (_LD_W_ABS, None, None, _ARCH),
        (_JEQ, None, "deny", arch),
        (_LD_W_ABS, None, None, _NR),
    ]
    if has_x32:
        prog.append((_JGE, "deny", None, _X32_BIT))
    prog += [
        (_JEQ, "flags", None, unshare),
        (_JEQ, "flags", None, clone),
        (_JEQ, "nosys", None, clone3),
        (_RET, None, None, _ALLOW),
    ]
    labels = {"flags": len(prog)}
    prog += [
        (_LD_W_ABS, None, None, _ARG0_LOW),
        (_JSET, "deny", None, CLONE_NEWUSER),
        (_RET, None, None, _ALLOW),
    ]
    labels["nosys"] = len(prog)
    prog.append((_RET, None, None, _ERRNO | _ENOSYS))
    labels["deny"] = len(prog)
    prog.append((_RET, None, None, _ERRNO | _EPERM))
    out = bytearray()
    for i, (code, jt, jf, k) in enumerate(prog):
        t = labels[jt] - i - 1 if jt else 0
        f = labels[jf] - i - 1 if jf else 0
        out += struct.pack("<HBBI", code, t, f, k)
    return bytes(out)
