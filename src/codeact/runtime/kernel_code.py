"""Source code run inside the kernel at start (the kernel cannot import codeact).

``setup_code`` installs the output limiter and the tool-bridge client; ``tools_code``
defines the tools as plain functions in the user namespace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..tools import Tool

DROP_MARK = "\x00codeact-dropped:"  # + count + "\x00": chars dropped inside the kernel

_SETUP = r'''
def __codeact_setup(limit, sock_path, mark):
    import builtins, collections, json, os, socket, sys, threading
    import ipykernel.iostream as iostream
    ip = get_ipython()

    # --- output limiter: per cell and stream, send the head, keep a rolling tail ---
    state = {}
    orig_write = iostream.OutStream.write

    def reset(*_a, **_k):
        state.clear()

    def flush_tails(*_a, **_k):
        for stream, st in list(state.items()):
            if st["dropped"]:
                tail = "".join(st["tail"])
                orig_write(stream, mark + str(st["dropped"]) + "\x00" + tail)
        state.clear()

    def write(self, string):
        if not isinstance(string, str):
            return orig_write(self, string)
        st = state.get(self)
        if st is None:
            st = state[self] = {"sent": 0, "tail": collections.deque(), "tlen": 0,
                                "dropped": 0}
        room = limit - st["sent"]
        if room > 0:
            head = string[:room]
            st["sent"] += len(head)
            orig_write(self, head)
            string = string[room:]
            if not string:
                return None
        if len(string) >= limit:
            st["dropped"] += st["tlen"] + len(string) - limit
            st["tail"] = collections.deque([string[-limit:]])
            st["tlen"] = limit
            return None
        st["tail"].append(string)
        st["tlen"] += len(string)
        while st["tlen"] - len(st["tail"][0]) >= limit:
            piece = st["tail"].popleft()
            st["tlen"] -= len(piece)
            st["dropped"] += len(piece)
        return None

    class LimitedWrite:
        """A data descriptor, so nothing can shadow the limiter with an instance attribute.

        IPython 9 tees each cell's output (``stream.write = tee`` on entry, then restores
        the bound method it saw, the unlimited one, on exit); with a plain class attribute
        that restore bypassed the limit from the next cell on and a 50 MB print broke the
        iopub channel. Assignments are ignored: the limiter stays in front, always.
        """

        def __get__(self, obj, objtype=None):
            return write if obj is None else write.__get__(obj, objtype)

        def __set__(self, obj, value):
            pass

    iostream.OutStream.write = LimitedWrite()
    for stream in (sys.stdout, sys.stderr):
        getattr(stream, "__dict__", {}).pop("write", None)
    ip.events.register("pre_execute", reset)
    ip.events.register("post_execute", flush_tails)

    # --- tool bridge client ---
    lock = threading.Lock()
    conn = {"sock": None, "file": None, "pid": None}

    class ToolError(Exception):
        """A tool failed on the host."""

    def _connect():
        if conn["sock"] is not None and conn["pid"] == os.getpid():
            return
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
        conn.update(sock=s, file=s.makefile("rb"), pid=os.getpid())

    def _drop():
        try:
            if conn["sock"] is not None:
                conn["sock"].close()
        except OSError:
            pass
        conn.update(sock=None, file=None, pid=None)

    def call(name, args, kwargs):
        payload = json.dumps({"tool": name, "args": list(args), "kwargs": kwargs}) + "\n"
        with lock:
            try:
                _connect()
                conn["sock"].sendall(payload.encode())
                line = conn["file"].readline()
            except BaseException:
                _drop()
                raise
            if not line:
                _drop()
                raise ToolError(f"tool {name!r}: the host closed the connection")
        reply = json.loads(line)
        if reply.get("ok"):
            return reply.get("result")
        etype = reply.get("type", "ToolError")
        msg = reply.get("message", "")
        exc_cls = getattr(builtins, etype, None)
        if isinstance(exc_cls, type) and issubclass(exc_cls, Exception) and etype not in (
                "SystemExit", "KeyboardInterrupt"):
            try:
                exc = exc_cls(msg)
            except Exception:
                exc = ToolError(f"{etype}: {msg}")
        else:
            exc = ToolError(f"{etype}: {msg}" if msg else etype)
        raise exc

    import types
    mod = types.ModuleType("codeact_tools")
    mod.call = call
    mod.ToolError = ToolError
    mod.tools = []
    sys.modules["codeact_tools"] = mod
'''

_MAKE_TOOLS = r'''
def __codeact_tools(specs, pure_src):
    import inspect, sys
    mod = sys.modules["codeact_tools"]
    ns = get_ipython().user_ns
    for old in mod.tools:
        ns.pop(old, None)
    mod.tools = []

    def make(name, sig_src, doc):
        sig = None
        try:
            tmp = {}
            exec(compile("from __future__ import annotations\ndef _f" + sig_src + ": pass",
                         "<tool>", "exec"), tmp)
            sig = inspect.signature(tmp["_f"])
        except Exception:
            sig = None

        def f(*args, **kwargs):
            if sig is not None:
                try:
                    sig.bind(*args, **kwargs)
                except TypeError as exc:
                    raise TypeError(f"{name}{sig_src}: {exc}") from None
            return mod.call(name, args, kwargs)

        f.__name__ = f.__qualname__ = name
        f.__doc__ = doc
        f.__module__ = "codeact_tools"
        if sig is not None:
            f.__signature__ = sig
        return f

    for name, sig_src, doc in specs:
        ns[name] = make(name, sig_src, doc)
        mod.tools.append(name)
    for name, src in pure_src:
        exec(compile(src, f"<tool {name}>", "exec"), ns)
        mod.tools.append(name)
'''


def setup_code(limit: int, sock_path: str) -> str:
    return (
        _SETUP
        + f"__codeact_setup({limit!r}, {sock_path!r}, {DROP_MARK!r})\n"
        + "del __codeact_setup\n"
        + "get_ipython().run_line_magic('colors', 'nocolor')\n"
        # Model code sees a plain interpreter's argv, not the kernel's own flags, so
        # argparse/unittest.main() in a cell do not choke on ipykernel's arguments.
        + "__import__('sys').argv[:] = ['python']\n"
    )


def tools_code(tools: Sequence[Tool]) -> str:
    specs = [(t.name, t.signature, t.description) for t in tools if not t.pure]
    pure = [(t.name, t.source()) for t in tools if t.pure]
    return (
        _MAKE_TOOLS
        + f"__codeact_tools(__import__('json').loads({json.dumps(json.dumps(specs))}), "
        + f"__import__('json').loads({json.dumps(json.dumps(pure))}))\n"
        + "del __codeact_tools\n"
    )
