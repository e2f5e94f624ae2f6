"""Kernel start-up, sent as a silent cell: defines ``__codeact_setup`` (then called once).

Installs the output limiter, the tool-bridge client (values converted by the shipped
``convert`` module, host exceptions rebuilt by type name), traceback pruning that keeps
codeact's own frames out of what the model sees, did-you-mean notes on lookup errors
(the shipped ``suggest`` module), ``%pip`` through the host, and
``final_answer``. See ``codeact.runtime.kernel_code.setup_code`` for the call.
"""


def __codeact_setup(limit, sock_path, mark, convert_src, submission_src, suggest_src,
                    answer_source, max_answer, site_dir, suggest=True, modules=()):
    import builtins
    import collections
    import json
    import os
    import socket
    import sys
    import threading

    import ipykernel.iostream as iostream
    from IPython import get_ipython

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

    iostream.OutStream.write = LimitedWrite()  # pyright: ignore[reportAttributeAccessIssue]
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
    hint = load("codeact_suggest", suggest_src)

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
            if suggest:  # "Did you mean ...?" as a note
                given = sys.modules.get("codeact_tools")
                hint.annotate(evalue, etb, ip.user_ns, list(getattr(given, "tools", ())))
        except Exception:
            pass
        return orig_structured(etype, evalue, etb, *args, **kwargs)

    tbfmt.structured_traceback = structured_traceback

    syntax_fmt = ip.SyntaxTB
    orig_syntax = syntax_fmt.structured_traceback

    def syntax_traceback(etype, evalue, etb=None, *args, **kwargs):
        if suggest:  # a note for a syntax small models expect (`37!`)
            hint.annotate(evalue, etb, ip.user_ns)
        return orig_syntax(etype, evalue, etb, *args, **kwargs)

    syntax_fmt.structured_traceback = syntax_traceback

    # --- tool bridge client ---
    lock = threading.Lock()
    conn: dict = {"sock": None, "file": None, "pid": None}

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

    def _comm_transport():
        """Requests as comm messages (remote kernels: no socket reaches the host). The
        request goes out on iopub; the answer comes on the control channel, served by its
        own thread while this cell waits (see codeact.runtime.comm_bridge)."""
        import itertools
        kernel = ip.kernel
        waiting = {}
        ids = itertools.count(1)
        comm_id = "codeact.bridge"
        # characters of JSON per call: the gateway re-escapes non-ASCII as \uXXXX (up to 6
        # bytes a character) and the host reads at most 32 MB a WebSocket message
        max_request = 4 << 20

        def on_reply(_stream, _ident, msg):
            data = (msg.get("content") or {}).get("data") or {}
            slot = waiting.get(data.get("id"))
            if slot is not None:  # a long answer comes in parts, the last one says so
                slot[1] += str(data.get("line", "")).encode()
                if data.get("last", True):
                    slot[0].set()

        kernel.control_handlers["comm_msg"] = on_reply

        def comm_request(obj):
            line = json.dumps(obj, ensure_ascii=False)
            if len(line) > max_request:
                raise ValueError(f"the call's arguments are {len(line) / 1e6:.1f} MB as JSON; "
                                 f"a call to the host takes at most {max_request >> 20} MB")
            call_id = next(ids)
            slot = [threading.Event(), b""]
            waiting[call_id] = slot
            try:
                kernel.session.send(
                    kernel.iopub_socket, "comm_msg",
                    {"comm_id": comm_id, "data": {"id": call_id, "line": line}},
                    parent=kernel.get_parent("shell"), ident=b"comm-" + comm_id.encode())
                while not slot[0].wait(0.5):
                    pass
                return slot[1]
            finally:
                waiting.pop(call_id, None)

        return comm_request

    comm_request = _comm_transport() if sock_path is None else None

    def _connect():
        if conn["sock"] is not None and conn["pid"] == os.getpid():
            return
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(sock_path))
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
        if comm_request is not None:
            return comm_request(obj)
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
    import importlib
    import re as _re
    import shlex
    import site
    if site_dir and os.path.isdir(site_dir):
        site.addsitedir(site_dir)

    remote_site = []

    def unpack(archive):
        """A remote kernel: the host's overlay arrives as a tar; unpack it onto sys.path."""
        import base64
        import io
        import tarfile
        import tempfile
        if not remote_site:
            remote_site.append(tempfile.mkdtemp(prefix="codeact-site-"))
            site.addsitedir(remote_site[0])
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(archive)), mode="r:gz") as tar:
            tar.extractall(remote_site[0], filter="data")
        site.addsitedir(remote_site[0])

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
        if reply.get("ok") and reply.get("archive"):
            unpack(reply["archive"])
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

    # --- standard modules small models use without importing them ---
    # Bound as a first cell's imports would be (not hidden: a submitted function that
    # uses one gets its import line); a cell may rebind them.
    for name in modules:
        ip.user_ns.setdefault(name, importlib.import_module(name))

    import types
    mod = types.ModuleType("codeact_tools")
    vars(mod).update(call=call, ToolError=ToolError, convert=conv, internal=internal, tools=[])
    sys.modules["codeact_tools"] = mod

    # --- the given functions keep their definitions ---
    # Small models copy the prompt's tool stubs (a signature and a docstring, no body) and
    # `def final_answer(value): print(value)` into a cell; run as written, the stubs
    # return None for the whole cell and the answer is never submitted. Such top-level
    # definitions are dropped before the cell runs, and its output says so.
    import ast

    skipped = []

    class KeepGiven(ast.NodeTransformer):
        def visit_Module(self, node):
            given = {"final_answer", *mod.tools}
            kept = []
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                        and stmt.name in given:
                    skipped.append(stmt.name)
                else:
                    kept.append(stmt)
            node.body = kept
            return node

    ip.ast_transformers.append(KeepGiven())

    def keep_given(*_a, **_k):
        names = list(dict.fromkeys(skipped))
        skipped.clear()
        if ip.user_ns.get("final_answer") is not final_answer:
            ip.user_ns["final_answer"] = final_answer
            names.append("final_answer")
        if names:
            listed = ", ".join(dict.fromkeys(names))
            print(f"[Note: this cell defined {listed}, already given to you: the cell ran "
                  "with the given one(s), your definition was left out. Call them as they "
                  "are; do not define them.]", file=sys.stderr)

    ip.events.register("post_run_cell", keep_given)
