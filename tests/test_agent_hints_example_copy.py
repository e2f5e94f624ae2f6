"""The example-copy veto: a cell that uses a function of the prompt's illustration is asked
again instead of run; with a real kernel and the real default prompt."""

from codeact.actions import CodeFormat
from codeact.agent import Agent
from codeact.agent.hints.base import RunStart
from codeact.agent.hints.example_copy import (
    ExampleCopy,
    example_cells,
    example_functions,
    is_copy,
    names_used,
)
from codeact.llm.scripted import ScriptedLLM
from codeact.tools import tool


@tool
def convert_mass(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a mass. Units: g, kg, lb."""
    grams = {"g": 1.0, "kg": 1000.0, "lb": 453.59237}
    return value * grams[from_unit] / grams[to_unit]


PROMPT = CodeFormat().system_prompt([convert_mass])
TASK = "How many full 250 g bags can be filled from 12 lb of flour?"
COPIED = ("<execute>\ntotal = 0\nfor item in ['lamp', 'desk']:\n    price = get_price(item)\n"
          "    total += apply_discount(price, 10)\nprint(total)\n</execute>")


def test_the_default_prompts_example_functions_are_found():
    assert example_functions(PROMPT, {"convert_mass"}) == {"get_price", "apply_discount"}
    # a run whose tools are the example's: nothing is the example's own
    assert example_functions(PROMPT, {"get_price", "apply_discount"}) == set()
    # the prompt without tools has an arithmetic example: builtins only
    assert example_functions(CodeFormat().system_prompt([]), set()) == set()


def test_names_used_reads_calls_and_assignments_not_own_definitions():
    names = {"get_price", "apply_discount"}
    assert names_used("p = get_price('lamp')", names) == ["get_price"]
    assert names_used("get_price = lambda x: 2.2", names) == ["get_price"]
    # a function the cell defines itself is the model's own
    assert names_used("def apply_discount(p, d):\n    return p * (1 - d / 100)\n"
                      "print(apply_discount(80, 10))", names) == []
    assert names_used("prices = get_prices()", names) == []
    assert names_used("get_price('x'", names) == ["get_price"]  # no parse: as text


def _hint(task: str = TASK) -> ExampleCopy:
    hint = ExampleCopy()
    hint.reset(RunStart(task, tools=[convert_mass], system_prompt=PROMPT))
    return hint


def test_a_cell_using_the_illustration_is_vetoed_with_the_tools_named():
    reason = _hint().vetoes(COPIED.removeprefix("<execute>").removesuffix("</execute>"))
    assert reason is not None
    assert "`apply_discount`, `get_price`" in reason and "convert_mass" in reason
    assert _hint().vetoes("print(convert_mass(12, 'lb', 'g') // 250)") is None
    # a task that names the function itself, or a run in another format: left alone
    assert _hint("Call get_price('lamp') and apply_discount.").vetoes(COPIED) is None
    other = ExampleCopy()
    other.reset(RunStart(TASK, tools=[convert_mass], code_format=False, system_prompt=PROMPT))
    assert other.vetoes(COPIED) is None


def test_the_examples_own_cell_nearly_as_written_is_vetoed():
    # seen: after a KeyError on a sales file, the multiples-of-7 cell with its range
    # reversed, and the empty list it printed submitted
    plain = CodeFormat().system_prompt([])
    hint = ExampleCopy()
    hint.reset(RunStart("Which product sold most?", system_prompt=plain))
    copied = ("found = [n for n in range(200, 31) if n % 7 == 0][:4]\n"
              "total = sum(x ** 3 for x in found)\n\nprint(found,  total)")
    assert hint.vetoes(copied) == ("it is the cell of the prompt's worked example (a task "
                                   "that is not yours), nearly as written there")
    assert is_copy(copied + "\nfinal_answer(total)", example_cells(plain)[0])
    # the same shape on the task's own values, and the one-line final_answer(total): run
    assert hint.vetoes("found = [n for n in range(1, 100) if n % 3 == 0]\n"
                       "total = sum(found)\nprint(total)") is None
    assert hint.vetoes("final_answer(total)") is None
    assert all(len(c.splitlines()) >= 2 for c in example_cells(plain))


class SamplingScript(ScriptedLLM):
    """A scripted backend that remembers each call's messages and temperature."""

    def __init__(self, replies):
        super().__init__(replies)
        self.temperatures: list[float] = []

    def _raw_stream(self, messages, request):
        self.temperatures.append(request.temperature)
        return super()._raw_stream(messages, request)


def test_in_the_loop_the_copied_cell_is_resampled_unrun(session):
    llm = SamplingScript([COPIED,
                          "<execute>n = convert_mass(12, 'lb', 'g') // 250\nprint(n)</execute>",
                          "<execute>final_answer(int(n))</execute>"])
    traj = Agent(llm, session=session, tools=[convert_mass], max_turns=4).run(TASK)
    assert traj.answer == "21"
    assert traj.turns[0].resampled and "get_price" in traj.turns[0].resampled[0]
    assert all("get_price" not in (t.code or "") for t in traj.turns)  # never ran
    assert llm.temperatures[:2] == [0.0, 0.7]
    note = llm.calls[1][-1]["content"]
    assert ("Note: your last reply was not run, because it uses `apply_discount`, "
            "`get_price`, which only the prompt's illustration has") in note
    assert note.endswith("Write your next step without that.")
