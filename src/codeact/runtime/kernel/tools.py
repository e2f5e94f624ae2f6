"""Kernel-side tool definitions, sent as a silent cell: defines ``__codeact_tools``.

Each host tool becomes a plain function in the user namespace that checks its arguments
against the tool's parsed signature and calls the host over the bridge; pure tools are
defined from their own source. See ``codeact.runtime.kernel_code.tools_code``.
"""


def __codeact_tools(specs, pure_src):
    import inspect
    import sys

    from IPython import get_ipython

    mod = sys.modules["codeact_tools"]
    mod.internal.add(sys._getframe().f_code.co_filename)
    to_json = mod.convert.to_json
    ns = get_ipython().user_ns
    for old in mod.tools:
        ns.pop(old, None)
    vars(mod)["tools"] = []
    vars(mod)["tool_objects"] = {}
    if not getattr(mod, "restore_registered", False):
        # Small models often redefine a tool with their own guess of its body (or use its
        # name for a variable), and from then on never reach the real tool. Put the tools
        # back after each cell and say so in the cell's output.
        def restore(*_a, **_k):
            objects = mod.tool_objects
            names = [n for n, obj in objects.items() if ns.get(n) is not obj]
            for n in names:
                ns[n] = objects[n]
            if names:
                listed = ", ".join(names)
                print(f"[Note: this cell redefined {listed}, given to you as a tool: the "
                      "tool was put back. Call the tools as they are given; do not "
                      "redefine them or reuse their names for variables.]", file=sys.stderr)

        get_ipython().events.register("post_run_cell", restore)
        vars(mod)["restore_registered"] = True
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
    vars(mod)["tool_objects"] = {name: ns[name] for name in mod.tools if name in ns}
