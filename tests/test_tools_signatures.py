"""Signature strings as third-party specs write them: parsed once, always valid Python."""

import ast
import inspect

import pytest

from codeact.tools.signatures import (
    accepted_types,
    from_inspect,
    is_type_expression,
    parse_signature,
)

# (spec text, rendered signature, exact?)
CORPUS = [
    ("convert_currency(base_price: float, conversion_rate: float) -> float",
     "(base_price: float, conversion_rate: float) -> float", True),
    ("(x: int)", "(x: int)", True),
    ("x: int, y: int", "(x: int, y: int)", True),
    ("def area(w: float, h: float = 1.0) -> float:", "(w: float, h: float = 1.0) -> float",
     True),
    ("mean(*args: float) -> int/float", "(*args: float)", False),
    ("*args: float", "(*args: float)", True),
    ("average(values: list of float) -> float", "(values) -> float", False),
    ("(items: list of str) -> list of str", "(items)", False),
    ("search(query: str, page: int = 1, **filters) -> list[dict]",
     "(query: str, page: int = 1, **filters) -> list[dict]", True),
    ("f(a, b=2, *args: float, c, **kw) -> int/float", "(a, b=2, *args: float, c, **kw)",
     False),
    ("(a, /, b, *, c: bool = False)", "(a, /, b, *, c: bool = False)", True),
    ("route(from: str, to: str) -> float", "(from_: str, to: str) -> float", False),
    ("(a=1, b)", "(a=1, b=None)", False),
    ("lookup(key (str), default?: str)", "(key: str, default: str = None)", False),
    ("fmt(s: str = 'a, b', n: int = max(1, 2)) -> Optional[str]",
     "(s: str = 'a, b', n: int = max(1, 2)) -> Optional[str]", True),
    ("pick(x: Literal['a', 'b'] = 'a') -> str", "(x: Literal['a', 'b'] = 'a') -> str", True),
    ("apply(fn: Callable[[int], str], xs: Dict[str, List[int]]) -> None",
     "(fn: Callable[[int], str], xs: Dict[str, List[int]]) -> None", True),
    ("total(x: int or float, y: number) -> number", "(x, y: number) -> number", False),
    ("clip(x: int = ) -> int", "(x: int = ...) -> int", False),
    ("concat(first, ...)", "(first, *args)", False),
    ("now()", "()", True),
    ("now() -> datetime.datetime", "() -> datetime.datetime", True),
    ("count_words(text: str) -> dict[str, int]", "(text: str) -> dict[str, int]", True),
    ("split(text: str, sep: str = \",\") -> list", "(text: str, sep: str = \",\") -> list",
     True),
    ("this is not a signature", "(*args, **kwargs)", False),
    ("broken(a, b", "(*args, **kwargs)", False),
    ("twice(a, a)", "(*args, **kwargs)", False),
    ("(int x, int y)", "(*args, **kwargs)", False),
]


@pytest.mark.parametrize("spec,rendered,exact", CORPUS)
def test_every_spec_renders_a_valid_def(spec, rendered, exact):
    sig = parse_signature(spec)
    assert sig.text == rendered
    assert sig.exact is exact
    tree = ast.parse(f"def tool{sig.text}:\n    pass\n")
    assert isinstance(tree.body[0], ast.FunctionDef)
    inspect_sig = sig.to_inspect()  # inspect accepts the same parameter list
    assert list(inspect_sig.parameters) == [p.name for p in sig.params]
    note = sig.note("tool")
    assert (note is None) is exact
    if note:  # the spec's own text, with the tool's name when the spec had none
        assert note.startswith("Signature as given: ")
        given = note.split(": ", 1)[1]
        assert given.endswith(spec.split("(", 1)[-1].strip().rstrip(":"))
        assert given.startswith(spec[:4]) or given.startswith("tool(")


# (spec, args, kwargs, expected bound arguments; None: the call must not bind)
CALLS = [
    ("convert_currency(base_price: float, conversion_rate: float) -> float", (10, 0.5), {},
     {"base_price": 10, "conversion_rate": 0.5}),
    ("convert_currency(base_price: float, conversion_rate: float) -> float", (10,), {}, None),
    ("mean(*args: float) -> int/float", (1, 2, 3), {}, {"args": (1, 2, 3)}),
    ("mean(*args: float) -> int/float", (), {"x": 1}, None),
    ("f(a, b=2, *args: float, c, **kw)", (1,), {"c": 3}, {"a": 1, "c": 3}),
    ("f(a, b=2, *args: float, c, **kw)", (1, 2, 9, 9), {"c": 3, "z": 0},
     {"a": 1, "b": 2, "args": (9, 9), "c": 3, "kw": {"z": 0}}),
    ("f(a, b=2, *args: float, c, **kw)", (1, 2), {}, None),
    ("(a, /, b, *, c: bool = False)", (1, 2), {"c": True}, {"a": 1, "b": 2, "c": True}),
    ("(a, /, b, *, c: bool = False)", (), {"a": 1, "b": 2}, None),
    ("(a, /, b, *, c: bool = False)", (1, 2, 3), {}, None),
    ("route(from: str, to: str)", ("A", "B"), {}, {"from_": "A", "to": "B"}),
    ("(a=1, b)", (), {}, {}),
    ("concat(first, ...)", ("a", "b", "c"), {}, {"first": "a", "args": ("b", "c")}),
    ("this is not a signature", (1, 2), {"k": 3}, {"args": (1, 2), "kwargs": {"k": 3}}),
    ("now()", (), {}, {}),
    ("now()", (1,), {}, None),
]


@pytest.mark.parametrize("spec,args,kwargs,expected", CALLS)
def test_calls_bind_as_the_signature_says(spec, args, kwargs, expected):
    sig = parse_signature(spec).to_inspect()
    if expected is None:
        with pytest.raises(TypeError):
            sig.bind(*args, **kwargs)
    else:
        assert dict(sig.bind(*args, **kwargs).arguments) == expected


@pytest.mark.parametrize("text,ok", [
    ("int", True), ("list[str]", True), ("str | None", True), ("Optional[int]", True),
    ("Callable[..., int]", True), ("dict[str, list[int]]", True), ("'Foo'", True),
    ("Literal['a', -1]", True), ("np.ndarray", True),
    ("int/float", False), ("list of str", False), ("int or float", False), ("f(x)", False),
    ("[int]", False), ("1", False), ("", False), ("'list of str'", False),
])
def test_type_expressions(text, ok):
    assert is_type_expression(text) is ok


@pytest.mark.parametrize("text,types", [
    ("int", (int,)), ("float", (float, int)), ("int/float", (int, float)),
    ("int or float", (int, float)), ("list of str", (list,)), ("Optional[int]",
                                                                 (int, type(None))),
    ("str | None", (str, type(None))), ("string", (str,)), ("Dict[str, int]", (dict,)),
    ("Foo", None), ("int/Foo", None), (None, None),
])
def test_accepted_types_read_loose_names(text, types):
    assert accepted_types(text) == types


def test_real_functions_keep_their_types_and_lose_unrenderable_parts():
    sentinel = object()

    def f(a: int, b: "list[str]" = None, *rest: float, flag: bool = sentinel,
          **kw) -> dict:
        return {}

    sig = from_inspect(inspect.signature(f), {"a": int, "flag": bool, "return": dict})
    assert sig.text == "(a: int, b: list[str] = None, *rest: float, flag: bool = ..., **kw) -> dict"
    ast.parse(f"def f{sig.text}: pass")
    assert [p.accepts for p in sig.params][:1] == [(int,)]
    assert sig.source is None and sig.note("f") is None
