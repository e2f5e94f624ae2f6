"""Source code run inside the kernel at start (the kernel cannot import codeact).

``setup_code`` installs the output limiter, the tool-bridge client (values converted by
:mod:`.convert`, host exceptions rebuilt by type name), the traceback pruning that keeps
our own frames out of what the model sees, and ``final_answer``; ``tools_code`` defines
the tools as plain functions in the user namespace. The kernel reports a final answer as
a payload of the cell's execute reply (see :func:`final_answer_from_payload`): a
structured channel that printing cannot imitate.
"""

from __future__ import annotations

import functools
import inspect
import json
import types
from collections.abc import Sequence

from ..tools import Tool
from . import convert, submission

DROP_MARK = "\x00codeact-dropped:"  # + count + "\x00": chars dropped inside the kernel
FINAL_ANSWER_SOURCE = "codeact.final_answer"  # payload source of final_answer(...)
MAX_ANSWER = 200_000  # characters a final answer may have

_SETUP = r'''
def __codeact_setup(limit, sock_path, mark, convert_src, submission_src, answer_source,
                    max_answer, site_dir):
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

    # --- our own code: never shown in the model's tracebacks ---
    internal = {sys._getframe().f_code.co_filename}

    def load(name, src):
        import types
        module = types.ModuleType(name)
        filename = f"<{name}>"
        exec(compile(src, filename, "exec"), module.__dict__)
        internal.add(filename)
        return module

    conv = load("codeact_convert", convert_src)
    sub = load("codeact_submission", submission_src)

    def prune(tb):
        """Cut a traceback where it enters our code: the model's line that called a
        tool (or final_answer) is the last frame it sees."""
        prev, cur = None, tb
        while cur is not None:
            if cur.tb_frame.f_code.co_filename in internal:
                if prev is not None:
                    prev.tb_next = None
                return
            prev, cur = cur, cur.tb_next

    tbfmt = ip.InteractiveTB
    orig_structured = tbfmt.structured_traceback

    def structured_traceback(etype, evalue, etb=None, *args, **kwargs):
        __tracebackhide__ = True
        try:
            todo, seen = [evalue], set()
            while todo:
                e = todo.pop()
                if e is None or id(e) in seen:
                    continue
                seen.add(id(e))
                if e.__traceback__ is not None:
                    prune(e.__traceback__)
                todo += [e.__cause__, e.__context__]
            if etb is not None:
                prune(etb)
        except Exception:
            pass
        return orig_structured(etype, evalue, etb, *args, **kwargs)

    tbfmt.structured_traceback = structured_traceback

    # --- tool bridge client ---
    lock = threading.Lock()
    conn = {"sock": None, "file": None, "pid": None}

    class ToolError(Exception):
        """A tool failed on the host."""

    ToolError.__module__ = "builtins"  # shown as plain ``ToolError``, like ``KeyError``
    error_classes = {}

    def error_class(etype, base):
        """The ToolError subclass standing for a host exception type of that name (also
        a subclass of its builtin base, so ``except ValueError`` still catches it)."""
        key = (etype, base)
        if key not in error_classes:
            name = etype if isinstance(etype, str) and etype.isidentifier() else "ToolError"
            bases = (ToolError,)
            b = getattr(builtins, base or "", None)
            if isinstance(b, type) and issubclass(b, Exception) and b is not Exception:
                bases = (ToolError, b)
            try:
                cls = type(name, bases, {"__module__": "builtins"})
            except TypeError:
                cls = type(name, (ToolError,), {"__module__": "builtins"})
            error_classes[key] = cls
        return error_classes[key]

    def rebuild(reply):
        etype = reply.get("type") or "ToolError"
        msg = reply.get("message", "")
        args = reply.get("args")
        cls = getattr(builtins, etype, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                return cls(*args) if isinstance(args, list) else cls(msg)
            except Exception:
                pass
        elif isinstance(cls, type) and issubclass(cls, BaseException):
            return ToolError(f"{etype}: {msg}" if msg else etype)
        return error_class(etype, reply.get("base"))(msg)

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

    def request(obj):
        """One request to the host and its reply line (b"" if the host hung up)."""
        payload = json.dumps(obj, ensure_ascii=False) + "\n"
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
        return line

    def show_images(value):
        """Display the images a tool returned (alone or in a list) as they arrive, once
        per cell, so the observation has them whatever the code does with the value."""
        items = value if isinstance(value, list) else [value]
        images = [v for v in items if isinstance(v, conv.Image)]
        if images:
            from IPython.display import display
            for image in images:
                display(image)
                image._shown_in = ip.execution_count

    conv.Image.already_shown = staticmethod(
        lambda image: getattr(image, "_shown_in", None) == ip.execution_count)

    def call(name, args, kwargs):
        """Run host tool ``name``; args and kwargs are already JSON-safe."""
        line = request({"tool": name, "args": list(args), "kwargs": kwargs})
        if not line:
            raise ToolError(f"tool {name!r}: the host closed the connection")
        reply = conv.loads(line)
        if reply.get("ok"):
            result = reply.get("result")
            show_images(result)
            return result
        raise rebuild(reply)

    # --- pip: the kernel is offline, so the host installs into the session overlay ---
    import importlib, re as _re, shlex, site
    if site_dir and os.path.isdir(site_dir):
        site.addsitedir(site_dir)

    def host_pip(line):
        """``%pip install NAME`` in the sandbox: the host downloads and installs it."""
        try:
            args = shlex.split(line)
        except ValueError as exc:
            print(f"pip: {exc}", file=sys.stderr)
            return
        names = " ".join(a for a in args[1:] if not a.startswith("-"))
        installing = args[:1] == ["install"]
        if installing:
            print(f"installing {names} ... ", end="", flush=True)
        raw = request({"op": "pip", "args": args})
        reply = json.loads(raw) if raw else {"ok": False,
                                              "message": "the host closed the connection"}
        if reply.get("ok"):
            got = reply.get("installed") or []
            print("done: " + (", ".join(f"{n} {v}" for n, v in got) if got
                              else reply.get("message", "already installed")))
            if site_dir:
                site.addsitedir(site_dir)
            importlib.invalidate_caches()
        elif installing:
            print(f"failed: {reply.get('message')}")
        else:
            print(f"pip: {reply.get('message')}", file=sys.stderr)

    ip.register_magic_function(host_pip, "line", "pip")
    pip_cmd = _re.compile(r"^\s*(?:\S*python[0-9.]*\s+-m\s+)?pip3?(?:\s+(.*))?$", _re.S)
    orig_system = ip.system

    def system(cmd, *a, **k):
        m = pip_cmd.match(cmd)
        if m:
            return host_pip(m.group(1) or "")
        return orig_system(cmd, *a, **k)

    ip.system = system

    # --- final_answer: a structured marker in the execute reply, not printed text ---
    def final_answer(value):
        """End the run with ``value`` as the answer once this cell has finished.

        A string is the answer as it is; any other value is given as its Python literal
        (``repr``). A function or class defined here is submitted as its source code,
        together with the imports and helper functions it uses.
        """
        __tracebackhide__ = True
        text = sub.answer_text(value, ip.user_ns, list(ip.history_manager.input_hist_parsed),
                               ip.user_ns_hidden)
        if len(text) > max_answer:
            raise ValueError(f"final_answer: the answer is {len(text):,} characters long; "
                             f"the limit is {max_answer:,}. Submit something shorter.")
        ip.payload_manager.write_payload({"source": answer_source, "answer": text})

    ip.user_ns["final_answer"] = final_answer
    ip.user_ns_hidden["final_answer"] = final_answer

    import types
    mod = types.ModuleType("codeact_tools")
    mod.call = call
    mod.ToolError = ToolError
    mod.convert = conv
    mod.internal = internal
    mod.tools = []
    sys.modules["codeact_tools"] = mod
'''

_MAKE_TOOLS = r"""
def __codeact_tools(specs, pure_src):
    import inspect, sys
    mod = sys.modules["codeact_tools"]
    mod.internal.add(sys._getframe().f_code.co_filename)
    to_json = mod.convert.to_json
    ns = get_ipython().user_ns
    for old in mod.tools:
        ns.pop(old, None)
    mod.tools = []
    mod.tool_objects = {}
    if not getattr(mod, "restore_registered", False):
        # Small models often redefine a tool with their own guess of its body (or use its
        # name for a variable), and from then on never reach the real tool. Put the tools
        # back after each cell and say so in the cell's output.
        def restore(*_a, **_k):
            names = [n for n, obj in mod.tool_objects.items() if ns.get(n) is not obj]
            for n in names:
                ns[n] = mod.tool_objects[n]
            if names:
                listed = ", ".join(names)
                print(f"[Note: this cell redefined {listed}, given to you as a tool: the "
                      "tool was put back. Call the tools as they are given; do not "
                      "redefine them or reuse their names for variables.]", file=sys.stderr)

        get_ipython().events.register("post_run_cell", restore)
        mod.restore_registered = True
    P = inspect.Parameter

    class Default:
        def __init__(self, text):
            self.text = text

        def __repr__(self):
            return self.text

    def make(name, sig_spec, doc, call_as):
        params, returns = sig_spec
        sig = inspect.Signature(
            [P(p, inspect._ParameterKind(kind),
               default=P.empty if default is None else Default(default),
               annotation=P.empty if ann is None else ann)
             for p, kind, ann, default, _ in params],
            return_annotation=inspect.Signature.empty if returns is None else returns)
        spec_names = {p: src for p, _, _, _, src in params if src != p}

        def f(*args, **kwargs):
            __tracebackhide__ = True
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{name}(): {exc}; call it as {call_as}") from None
            for pname, value in bound.arguments.items():
                kind = sig.parameters[pname].kind
                if kind == P.VAR_POSITIONAL:
                    value = tuple(to_json(v, f"{name}(): argument {pname!r}[{i}]")
                                  for i, v in enumerate(value))
                elif kind == P.VAR_KEYWORD:
                    value = {k: to_json(v, f"{name}(): argument {k!r}")
                             for k, v in value.items()}
                else:
                    value = to_json(value, f"{name}(): argument {pname!r}")
                bound.arguments[pname] = value
            kw = {spec_names.get(k, k): v for k, v in bound.kwargs.items()}
            return mod.call(name, bound.args, kw)

        f.__name__ = f.__qualname__ = name
        f.__doc__ = doc
        f.__module__ = "codeact_tools"
        f.__signature__ = sig
        return f

    for name, sig_spec, doc, call_as in specs:
        ns[name] = make(name, sig_spec, doc, call_as)
        mod.tools.append(name)
    for name, src in pure_src:
        exec(compile(src, f"<tool {name}>", "exec"), ns)
        mod.tools.append(name)
    mod.tool_objects = {name: ns[name] for name in mod.tools if name in ns}
"""


@functools.cache
def _module_source(module: types.ModuleType) -> str:
    return inspect.getsource(module)


def setup_code(limit: int, sock_path: str, site_dir: str | None = None) -> str:
    """Kernel start-up code: output limiter, tool-bridge client, traceback pruning,
    ``final_answer`` and ``%pip`` through the host (``site_dir``: the package overlay as
    the kernel sees it)."""
    return (
        _SETUP
        + f"__codeact_setup({limit!r}, {sock_path!r}, {DROP_MARK!r}, "
        + f"{_module_source(convert)!r}, {_module_source(submission)!r}, "
        + f"{FINAL_ANSWER_SOURCE!r}, {MAX_ANSWER!r}, {site_dir!r})\n"
        + "del __codeact_setup\n"
        + "get_ipython().run_line_magic('colors', 'nocolor')\n"
        # Model code sees a plain interpreter's argv, not the kernel's own flags, so
        # argparse/unittest.main() in a cell do not choke on ipykernel's arguments.
        + "__import__('sys').argv[:] = ['python']\n"
    )


def _call_as(t: Tool) -> str:
    """The stub's signature line (``name(a: int, b: str = 'x') -> dict``), quoted in the
    error a wrong call gets, so the model sees how to call the tool right there."""
    line = t.python_stub().splitlines()[0].strip()
    return line.removeprefix("async ").removeprefix("def ").removesuffix(":")


def tools_code(tools: Sequence[Tool]) -> str:
    """Code that defines the host tools (bridged, checked against their parsed
    signature) and the pure tools (their own source) in the user namespace."""
    specs = [(t.name, t.parsed_signature.to_spec(), t.doc(), _call_as(t))
             for t in tools if not t.pure]
    pure = [(t.name, t.source()) for t in tools if t.pure]
    return (
        _MAKE_TOOLS
        + f"__codeact_tools(__import__('json').loads({json.dumps(json.dumps(specs))}), "
        + f"__import__('json').loads({json.dumps(json.dumps(pure))}))\n"
        + "del __codeact_tools\n"
    )


def final_answer_from_payload(payload: object) -> str | None:
    """The answer ``final_answer(...)`` submitted during a cell, read from the payload of
    its execute reply (the last call wins); None when it was not called."""
    answer = None
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, dict) and item.get("source") == FINAL_ANSWER_SOURCE:
                value = item.get("answer")
                if isinstance(value, str):
                    answer = value
    return answer
