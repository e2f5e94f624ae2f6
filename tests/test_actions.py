"""Parsing of every odd model output we could think of, for all three formats."""

import ast

import pytest

from codeact.actions import (
    FORMATS,
    ActionFormat,
    CodeAction,
    CodeFormat,
    FinalAnswer,
    Invalid,
    NoAction,
    ToolCall,
    format_names,
    get_format,
    register_format,
)
from codeact.llm.base import Completion
from codeact.prompts import Prompt
from codeact.tools import Tool, tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def greet(name: str, punctuation: str = "!") -> str:
    """Greet someone."""
    return f"hi {name}{punctuation}"


def stopped(text: str, stop: str | None = "</execute>") -> Completion:
    return Completion(text=text, stop_sequence=stop)


code = get_format("code")


def test_code_block_closed_by_stop_sequence():
    action = code.parse(stopped("Let me compute.\n<execute>\nprint(1 + 1)\n"))
    assert action == CodeAction("print(1 + 1)")


def test_code_block_with_explicit_close():
    action = code.parse(Completion(text="<execute>x = 2</execute>"))
    assert isinstance(action, CodeAction) and action.code == "x = 2"


def test_fenced_python_without_tags_is_code():
    action = code.parse(Completion(text="Sure:\n```python\nprint('a')\n```\nDone."))
    assert action == CodeAction("print('a')")


def test_fenced_block_inside_execute_is_unwrapped():
    action = code.parse(stopped("<execute>\n```python\nprint(3)\n```\n"))
    assert isinstance(action, CodeAction) and action.code == "print(3)"


def test_non_python_fence_is_not_code():
    action = code.parse(Completion(text="Output:\n```text\nhello\n```"))
    assert isinstance(action, NoAction)


def test_solution_only():
    action = code.parse(Completion(text="The answer is <solution>42</solution>"))
    assert action == FinalAnswer("42")


def test_solution_closed_by_stop_sequence():
    action = code.parse(Completion(text="<solution> 8384727 ", stop_sequence="</solution>"))
    assert action == FinalAnswer("8384727")


def test_empty_solution_is_invalid():
    assert isinstance(code.parse(Completion(text="<solution></solution>")), Invalid)


def test_code_and_solution_runs_code_first():
    action = code.parse(Completion(text="<solution>5</solution>\n<execute>print(5)"))
    assert isinstance(action, CodeAction)
    assert action.code == "print(5)" and action.solution == "5"


def test_several_blocks_are_joined_with_a_note():
    text = "<execute>a = 1</execute> then <execute>print(a)</execute>"
    action = code.parse(Completion(text=text))
    assert isinstance(action, CodeAction)
    assert action.code == "a = 1\n\nprint(a)"
    assert "one <execute> block" in action.note


def test_empty_code_is_invalid():
    action = code.parse(stopped("<execute>   \n"))
    assert isinstance(action, Invalid) and "empty" in action.message


def test_unclosed_block_cut_by_length_is_not_run():
    action = code.parse(Completion(text="<execute>for i in range(", finish_reason="length"))
    assert isinstance(action, Invalid) and "cut off" in action.message


def test_whole_code_before_a_fence_and_a_runaway_solution_is_run():
    text = ("<execute>\nprimes = [2, 3]\nprint(primes)\n```\n\n<solution>\n"
            "[5041, 5329, 6241, 6889, 7921, 9409, 10509, 11029")
    action = code.parse(Completion(text=text, finish_reason="length"))
    assert isinstance(action, CodeAction)
    assert action.code == "primes = [2, 3]\nprint(primes)"
    assert "the code was run, the rest ignored" in action.note
    # a fence with no <solution> after it: the code may go on, so it is not run
    cut = "<execute>\nx = 1\n```\nmore prose and then code = ("
    assert isinstance(code.parse(Completion(text=cut, finish_reason="length")), Invalid)


def test_a_bare_fence_ends_the_code_and_the_prose_after_it_is_not_run():
    # seen: six turns of the same SyntaxError on the ``` line
    text = ("<execute>\ndef f(x):\n    return x + 1\n\nassert f(1) == 2\n```\n\n"
            "Now, the function will pass the test cases.")
    action = code.parse(Completion(text=text, stop_sequence=None))
    assert isinstance(action, CodeAction)
    assert action.code == "def f(x):\n    return x + 1\n\nassert f(1) == 2"
    assert action.note.startswith("Note: a ``` line ended your code")
    # two blocks each ended that way: both run, as one cell
    text = ("<execute>\nimport math\n```\n<execute>\nfinal_answer(math.pi)\n```\n\n"
            "The answer is pi.")
    action = code.parse(Completion(text=text, stop_sequence=None))
    assert isinstance(action, CodeAction)
    assert action.code == "import math\n\nfinal_answer(math.pi)"
    assert "2 code blocks were run together" in action.note


def test_a_fence_in_working_code_or_before_broken_code_is_kept():
    in_string = 'text = """\n```\nnot code\n```\n"""\nprint(text)'
    action = code.parse(Completion(text=f"<execute>\n{in_string}\n</execute>"))
    assert isinstance(action, CodeAction) and action.code == in_string and action.note is None
    broken = "x = (1,\n```\nprose"  # the code before the fence does not parse either
    action = code.parse(Completion(text=f"<execute>\n{broken}\n</execute>"))
    assert isinstance(action, CodeAction) and action.code == broken


def test_unclosed_block_ended_by_eos_is_run():
    action = code.parse(Completion(text="<execute>print(1)", stop_sequence=None))
    assert action == CodeAction("print(1)")


def test_plain_text_is_no_action():
    assert code.parse("Hello! How can I help?") == NoAction("Hello! How can I help?")


def test_restore_stop_puts_the_tag_back():
    completion = stopped("<execute>print(1)\n")
    assert code.restore_stop(completion).endswith("</execute>")
    assert code.restore_stop(Completion(text="hi", stop_sequence="<|im_end|>")) == "hi"


def test_code_prompt_lists_tools_as_python():
    prompt = code.system_prompt([add, greet])
    assert "def add(a: int, b: int) -> int:" in prompt
    assert '"""Add two integers."""' in prompt
    assert "<execute>" in prompt and "<solution>" in prompt
    assert "persistent" in prompt


def test_code_prompt_documents_final_answer():
    prompt = code.system_prompt([])
    assert "final_answer(value)" in prompt and "final_answer(the_function)" in prompt
    assert "final_answer" not in get_format("json").system_prompt([add])
    assert "final_answer" not in get_format("text").system_prompt([add])


def test_every_format_shows_one_valid_rendering_of_odd_signatures():
    odd = Tool.from_spec("convert_currency", lambda *a: a, "Convert a price.",
                         "convert_currency(base_price: float, rate: float) -> int/float")
    stub = code.system_prompt([odd]).split("```python\n")[1].split("```")[0]
    assert ast.parse(stub).body[0].name == "convert_currency"
    line = "convert_currency(base_price: float, rate: float)"
    assert f"def {line}:" in stub
    for name in ("json", "text"):
        listing = get_format(name).system_prompt([odd])
        assert f"- {line}\n    Convert a price." in listing
        assert "Signature as given: convert_currency(base_price: float, rate: float) -> " \
            "int/float" in listing
        assert "convert_currency(convert_currency" not in listing


def test_code_prompt_without_tools_has_no_tool_section():
    assert "already defined" not in code.system_prompt([])


def test_the_default_code_prompt_picks_its_example_by_whether_there_are_tools():
    plain, with_tools = code.system_prompt([]), code.system_prompt([add])
    assert "multiples of 7" in plain and "get_price" not in plain
    assert "get_price(item)" in with_tools and "multiples of 7" not in with_tools
    assert "{example}" not in plain + with_tools
    # a prompt without the mark gets no example
    assert "get_price" not in code.system_prompt([add], Prompt("mine", "Act.{tools}"))


def test_stop_sequences():
    assert code.stop == ["</execute>", "</solution>"]


def json_format():
    fmt = get_format("json")
    fmt.system_prompt([add, greet])
    return fmt


def test_json_call():
    action = json_format().parse(stopped('<execute>{"tool": "add", "arguments": '
                                         '{"a": 1, "b": 2}}'))
    assert action == ToolCall("add", {"a": 1, "b": 2})


def test_json_python_literal_fallback():
    action = json_format().parse(stopped("<execute>{'tool': 'greet', 'arguments': "
                                         "{'name': 'Bo'}}"))
    assert action == ToolCall("greet", {"name": "Bo"})


def test_json_in_fence():
    action = json_format().parse(stopped('<execute>\n```json\n{"tool": "add", "arguments": '
                                         '[1, 2]}\n```\n'))
    assert action == ToolCall("add", [1, 2])


@pytest.mark.parametrize("body,fragment", [
    ("{not json", "not valid JSON"),
    ("{[1]: 2}", "not valid JSON"),  # literal_eval raises TypeError: unhashable key
    ("[" * 100_000, "not valid JSON"),  # and RecursionError / MemoryError on deep nesting
    ('[{"tool": "add"}]', "not a list"),
    ('"add"', "JSON object"),
    ('{"arguments": {}}', '"tool" field'),
    ('{"tool": "add", "arguments": 3}', "must be an object"),
    ('{"tool": "nope", "arguments": {}}', "Unknown tool 'nope'"),
])
def test_json_invalid(body, fragment):
    action = json_format().parse(stopped(f"<execute>{body}"))
    assert isinstance(action, Invalid)
    assert fragment in action.message


def test_json_prompt_lists_signatures():
    prompt = get_format("json").system_prompt([add])
    assert "add(a: int, b: int) -> int" in prompt and '"tool"' in prompt


def test_json_only_first_of_several_calls_runs():
    text = ('<execute>{"tool": "add", "arguments": [1, 2]}</execute>'
            '<execute>{"tool": "add", "arguments": [3, 4]}</execute>')
    action = json_format().parse(Completion(text=text))
    assert isinstance(action, ToolCall) and action.arguments == [1, 2]
    assert "only the first" in action.note


def text_format():
    fmt = get_format("text")
    fmt.system_prompt([add, greet])
    return fmt


@pytest.mark.parametrize("body,args", [
    ("add, 1, 2", [1, 2]),
    ("add 1, 2", [1, 2]),
    ("add(1, 2)", [1, 2]),
    ('greet, "Smith, J", "?"', ["Smith, J", "?"]),
    ("greet, Bo", ["Bo"]),
    ("greet, Bo Jr, ?", ["Bo Jr", "?"]),
    ("greet", []),
])
def test_text_calls(body, args):
    action = text_format().parse(stopped(f"<execute>{body}"))
    assert isinstance(action, ToolCall)
    assert action.arguments == args


def test_text_unknown_tool():
    action = text_format().parse(stopped("<execute>fly, 1"))
    assert isinstance(action, Invalid) and "Available tools: add, greet" in action.message


def test_text_garbage_is_invalid():
    assert isinstance(text_format().parse(stopped("<execute>123 456")), Invalid)


def test_text_solution():
    assert text_format().parse(Completion(text="<solution>3</solution>")) == FinalAnswer("3")


def test_unknown_format_name():
    with pytest.raises(ValueError, match="choose one of code, json, text"):
        get_format("yaml")


class KeyValueFormat(ActionFormat):
    """A toy format: ``<execute>tool key=value ...</execute>``, one call per turn."""

    name = "kv"

    def default_prompt(self) -> Prompt:
        return Prompt("kv-default", "Call a tool as <execute>name key=value</execute>, "
                                    "answer in <solution>...</solution>.\n{tools}")

    def system_prompt(self, tools, prompt=None):
        listing = "\n".join(t.listing() for t in tools)
        return (prompt or self.default_prompt()).render(listing)

    def parse(self, reply):
        text = reply.text if isinstance(reply, Completion) else reply
        if "<execute>" not in text:
            return self._solution_or_none(text) or NoAction(text)
        name, *pairs = text.split("<execute>", 1)[1].split("</execute>")[0].split()
        return ToolCall(name, {k: ast.literal_eval(v) for k, v in
                               (pair.split("=", 1) for pair in pairs)})


@pytest.fixture
def kv_registered():
    register_format(KeyValueFormat)  # the one registration line a new format needs
    yield
    FORMATS.pop("kv")


def test_a_new_format_is_one_class_and_one_register_line(kv_registered, tmp_path):
    from codeact.agent import Agent
    from codeact.bench.run_one import RunConfig
    from codeact.config import load_settings
    from codeact.llm.scripted import ScriptedLLM

    assert "kv" in format_names() and isinstance(get_format("kv"), KeyValueFormat)
    # every reader of the registry accepts it: the config, the bench, the agent
    settings = load_settings({"action_format": "kv"}, env={},
                             config_path=tmp_path / "none.toml")
    assert settings.action_format == "kv"
    assert RunConfig(formats=["code", "kv"]).formats == ["code", "kv"]
    llm = ScriptedLLM(["<execute>add a=2 b=40</execute>", "<solution>42</solution>"])
    traj = Agent(llm, [add], action_format="kv").run("add 2 and 40")
    assert traj.action_format == "kv" and traj.metadata["prompt"] == "kv-default"
    assert [t.action for t in traj.turns] == ["tool_call", "solution"]
    assert traj.turns[0].arguments == {"a": 2, "b": 40}
    assert traj.turns[0].observation.startswith("42") and traj.answer == "42"
    assert "add(a: int, b: int)" in traj.messages[0]["content"]


def test_unregistered_formats_are_refused_everywhere(tmp_path):
    from codeact.bench.run_one import RunConfig
    from codeact.config import ConfigError, load_settings

    assert format_names()[:3] == ["code", "json", "text"]
    with pytest.raises(ValueError, match="unknown action format"):
        RunConfig(formats=["kv"])
    with pytest.raises(ConfigError, match="must be code, json or text"):
        load_settings({"action_format": "kv"}, env={}, config_path=tmp_path / "none.toml")
    with pytest.raises(ValueError, match="needs a name of its own"):
        register_format(ActionFormat)


def test_code_cut_off_in_a_runaway_runs_up_to_it_and_is_shown_short():
    lines = "".join(f"points['team{i}'] = score({i})\n" for i in range(2, 60))
    text = "Let me compute.\n<execute>\ndef score(i):\n    return i\n" + lines + "points['te"
    action = code.parse(Completion(text=text, finish_reason="length"))
    assert isinstance(action, CodeAction)
    kept = "def score(i):\n    return i\npoints['team2'] = score(2)\npoints['team3'] = score(3)"
    assert action.code == kept
    assert action.shown == f"Let me compute.\n<execute>\n{kept}\n</execute>"
    assert "repeated one pattern from line 3 on" in action.note
    assert "use a loop" in action.note


def test_a_runaway_in_the_last_of_several_blocks_keeps_both_notes():
    lines = "".join(f"x{i} = {i}\n" for i in range(60))
    text = "<execute>a = 1</execute>\n<execute>\n" + lines + "x6"
    action = code.parse(Completion(text=text, finish_reason="length"))
    assert isinstance(action, CodeAction) and action.code == "a = 1\n\nx0 = 0\nx1 = 1"
    assert action.note.startswith("Note: your 2 code blocks were run together")
    assert "repeated one pattern from line 1 on" in action.note


@tool
def find_doctors(specialty: str) -> list:
    """Ids of the doctors of one specialty."""
    return []


@tool
def open_slots(doctor_id: str, day: str) -> list:
    """The hours a doctor still has free on a day."""
    return []


def _stub_copy_reply(before: str) -> str:
    stubs = "".join(f'def {n}(x):\n    """Copied."""\n\n' for n in
                    ["find_doctors", "open_slots", "find_doctors_free", "find_doctors_free_x"])
    return f"I will use the tools.\n<execute>\n{before}{stubs}def find_doc"


def test_a_reply_cut_off_copying_the_tool_stubs_is_shown_up_to_the_first():
    fmt = CodeFormat()
    fmt.system_prompt([find_doctors, open_slots])
    action = fmt.parse(Completion(text=_stub_copy_reply("import math\n\n"),
                                  finish_reason="length"))
    assert isinstance(action, Invalid)  # imports alone are no step: nothing runs
    assert "wrote out 4 function definitions (find_doctors, open_slots, " in action.message
    assert "find_doctors, open_slots are given tools, already defined" in action.message
    assert "`result = find_doctors(...)`" in action.message
    assert action.shown == ('I will use the tools.\n<execute>\nimport math\ndef '
                            'find_doctors(x):\n    """Copied."""\n</execute>')


def test_code_before_copied_stubs_runs_and_the_reply_is_shown_without_them():
    fmt = CodeFormat()
    fmt.system_prompt([find_doctors, open_slots])
    action = fmt.parse(Completion(text=_stub_copy_reply("ids = find_doctors('eye')\n"),
                                  finish_reason="length"))
    assert isinstance(action, CodeAction) and action.code == "ids = find_doctors('eye')"
    assert "Only the code before them was run" in action.note
    assert action.shown == ("I will use the tools.\n<execute>\nids = find_doctors('eye')\n"
                            "</execute>")


def test_code_stopped_in_a_loop_is_not_run_and_the_note_says_why():
    text = "<execute>\nprint(place_bid(1, 'me', 1" + "0" * 600
    action = code.parse(Completion(text=text, finish_reason="loop"))
    assert isinstance(action, Invalid) and "fell into a loop" in action.message
    lines = "".join(f"x{i} = {i}\n" for i in range(60))  # a runaway stopped early is cut
    action = code.parse(Completion(text="<execute>\n" + lines + "x6", finish_reason="loop"))
    assert isinstance(action, CodeAction) and action.code == "x0 = 0\nx1 = 1"
