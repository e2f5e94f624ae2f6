"""Kernel launcher, run first (as ``python -s -c``) by every sandbox backend.

Drops to the sandbox uid where it starts as uid 0 of the session's user namespace, clears
capabilities, sets rlimits, enters the kernel's folder, then becomes the IPython kernel.
argv: ``[--unsafe-no-sandbox]``, ``[--cwd DIR]``, then limits as ``NAME=VALUE``..., ``--``,
the kernel's argv. It must stay standard-library only: it runs before anything of codeact
is importable (pyzmq is imported only for ``$CODEACT_LISTEN_FDS``, and the kernel needs it
anyway).

``$CODEACT_LISTEN_FDS`` (``PORT:FD,...``, set by the gateway kernelspec launcher,
``runtime/kernelspec_launch.py``): TCP sockets the host already bound and listens on, in
the host's network namespace; the kernel's zmq sockets adopt them (``ZMQ_USE_FD``)
instead of binding, so the kernel serves a gateway from a sandbox without a network.
"""

import sys

# `python -c` puts the working directory first on sys.path: were it the workspace (model
# code writes there), a planted ctypes.py or resource.py would run here, before the drop
# below, as the namespace's root (host root on a root host) with its capabilities and no
# rlimits. So the launcher starts elsewhere (``--cwd``), and nothing is imported from the
# working directory until the kernel has been started (see main).
_CWD_ENTRIES = [p for p in sys.path if p in ("", ".")]
sys.path[:] = [p for p in sys.path if p not in ("", ".")]

import ctypes  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402

SANDBOX_UID = 1000  # must equal codeact.runtime.sandbox.SANDBOX_UID (a test checks it)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("e", ctypes.c_uint32), ("p", ctypes.c_uint32), ("i", ctypes.c_uint32)]


LISTEN_FDS = "CODEACT_LISTEN_FDS"


def adopt_listen_fds() -> None:
    """Make zmq binds to ``tcp://IP:PORT`` use the inherited listening socket for PORT."""
    spec = os.environ.pop(LISTEN_FDS, "")
    if not spec:
        return
    fds = {int(port): int(fd) for port, _, fd in
           (item.partition(":") for item in spec.split(",") if item)}
    import zmq

    bind = zmq.Socket.bind

    def bind_adopting(self: zmq.Socket, addr: str):  # type: ignore[no-untyped-def]
        port = addr.rpartition(":")[2]
        fd = fds.pop(int(port), None) if addr.startswith("tcp://") and port.isdigit() else None
        if fd is not None:
            self.setsockopt(zmq.USE_FD, fd)
        return bind(self, addr)

    zmq.Socket.bind = bind_adopting  # type: ignore[method-assign]


def main() -> None:
    args = sys.argv[1:]
    unsafe = args[:1] == ["--unsafe-no-sandbox"]
    if unsafe:
        args = args[1:]
    cwd = None
    if args[:1] == ["--cwd"]:
        cwd, args = args[1], args[2:]
    sep = args.index("--")
    limits, kargv = args[:sep], args[sep + 1:]
    if os.getuid() == 0 and not unsafe:
        os.setgroups([])
        os.setgid(SANDBOX_UID)
        os.setuid(SANDBOX_UID)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), (_CapData * 2)())
    if (os.getuid() == 0 or os.geteuid() == 0) and not unsafe:
        raise SystemExit("codeact launcher: refusing to run model code as root")
    for item in limits:
        name, _, value = item.partition("=")
        v = int(value)
        res = getattr(resource, name)
        hard = v + 5 if name == "RLIMIT_CPU" else v
        resource.setrlimit(res, (v, hard))
    if cwd is not None:
        os.chdir(cwd)
    adopt_listen_fds()
    sys.argv = kargv
    from ipykernel import kernelapp

    sys.path[:0] = _CWD_ENTRIES  # as in any kernel: the model imports its own modules
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
