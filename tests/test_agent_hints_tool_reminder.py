"""The tool reminder: a failing line that uses a tool gets the tool's signature."""

from codeact.agent import Agent
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.tool_reminder import ToolReminder, failing_text
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import ExecutionError, Observation
from codeact.tools import Tool


def _nutrients(ingredient):
    if ingredient != "rice":
        raise KeyError(f"unknown ingredient {ingredient!r}")
    return {"protein": 7}


TOOLS = [Tool.from_spec("nutrients", _nutrients, "Nutrients per 100 g of one ingredient.",
                        "nutrients(ingredient: str) -> dict"),
         Tool.from_spec("list_recipes", lambda: ["soup"], "All recipe names.",
                        "list_recipes() -> list of str")]
TRACEBACK = ("Cell In[1], line 2\n      1 recipes = list_recipes()\n"
             "----> 2 best = nutrients(recipes[0])\nKeyError: \"unknown ingredient 'soup'\"")


def _failed(turn: int, output: str = TRACEBACK) -> Step:
    return Step(turn, "code", output, False, Observation(error=ExecutionError("KeyError", "x", "")))


def test_the_failing_line_names_the_tool_it_uses():
    assert failing_text(TRACEBACK) == ("KeyError: \"unknown ingredient 'soup'\"",
                                       "best = nutrients(recipes[0])")
    hint = ToolReminder()
    hint.reset(RunStart("Which recipe has the most protein?", TOOLS))
    advice = hint.after_action(_failed(1), Verdict())
    assert advice is not None and "`nutrients`" in advice.note
    assert "nutrients(ingredient: str) -> dict: Nutrients per 100 g" in advice.note
    assert "list_recipes" not in advice.note  # on a line that ran fine
    # not again for a while, then again
    assert hint.after_action(_failed(2), Verdict()) is None
    assert hint.after_action(_failed(5), Verdict()) is not None


def test_the_tool_the_error_names_comes_first_even_when_shown_lately():
    hint = ToolReminder()
    hint.reset(RunStart("t", TOOLS))
    named = ("----> 1 x = [nutrients(r) for r in list_recipes(1)]\n"
             "TypeError: list_recipes(): too many positional arguments")
    advice = hint.after_action(_failed(1, named), Verdict())
    assert advice.note.index("    list_recipes()") < advice.note.index("    nutrients(")
    advice = hint.after_action(_failed(2, named), Verdict())
    assert "list_recipes" in advice.note and "nutrients" not in advice.note


def test_success_other_names_and_attributes_get_nothing():
    hint = ToolReminder()
    hint.reset(RunStart("t", TOOLS))
    assert hint.after_action(Step(1, "code", "----> 1 nutrients(x)", True), Verdict()) is None
    other = "----> 1 value = my_nutrients(x) + data.nutrients\nValueError: bad"
    assert hint.after_action(_failed(1, other), Verdict()) is None


def test_a_failing_tool_call_shows_that_tool():
    hint = ToolReminder()
    hint.reset(RunStart("t", TOOLS, code_format=False))
    step = Step(1, '["nutrients", {"ingredient": "soup"}]', "Error: unknown", False)
    advice = hint.after_action(step, Verdict())
    assert advice is not None and "nutrients(ingredient: str)" in advice.note


def test_in_the_loop_the_note_follows_a_real_error(session):
    replies = iter(["<execute>print(nutrients('soup'))</execute>",
                    "<execute>protein = nutrients('rice')['protein']\nprint(protein)</execute>",
                    "<execute>final_answer(protein)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), tools=TOOLS,
                 session=session).run("Protein in rice?")
    assert "nutrients(ingredient: str) -> dict" in traj.turns[0].observation
    assert traj.answer == "7"
