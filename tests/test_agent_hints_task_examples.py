"""The task-examples hint: reading a task's examples, the probe in a real kernel, and the
hint in the agent loop (scripted model, real sandboxed kernel)."""

from codeact.agent import Agent, Approval
from codeact.agent.hints import default_hint_names
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.task_examples import (
    TaskExamples,
    probe_code,
    read_results,
    task_examples,
)
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation
from codeact.tools import tool

RLE_TASK = ("Write a Python function `run_length(s: str) -> str`. Return the run-length "
            "encoding of `s`: runs of length 1 are written as the bare character. For "
            "example run_length('aaabcc') == 'a3bc2' and run_length('') == ''.")
WRONG_RLE = '''def run_length(s: str) -> str:
    if not s:
        return ''
    out, cur, n = '', s[0], 1
    for ch in s[1:]:
        if ch == cur:
            n += 1
        else:
            out += cur + str(n)
            cur, n = ch, 1
    return out + cur + str(n)'''
RIGHT_RLE = WRONG_RLE.replace("out += cur + str(n)", "out += cur + (str(n) if n > 1 else '')"
                              ).replace("return out + cur + str(n)",
                                        "return out + cur + (str(n) if n > 1 else '')")


def calls(task: str) -> list[tuple[str, str]]:
    return [(ex.call, ex.expected) for ex in task_examples(task)]


def test_examples_are_read_in_the_usual_forms():
    assert calls(RLE_TASK) == [("run_length('aaabcc')", "'a3bc2'"), ("run_length('')", "''")]
    doctest = ('def close(xs: list, t: float) -> bool:\n    """Any two closer than t.\n'
               '    >>> close([1.0, 2.0], 0.5)\n    False\n'
               '    >>> close([1.0, 1.1], 0.3)\n    True\n    """')
    assert calls(doctest) == [("close([1.0, 2.0], 0.5)", "False"),
                              ("close([1.0, 1.1], 0.3)", "True")]
    arrows = ('bf("Jupiter", "Neptune") ==> ("Saturn", "Uranus")\n'
              'digits(235) -> 15.\nsplit_words("a,b") ➞ ["a", "b"]\n'
              'count(n=3) should return 6, and count(n=0) returns 0.')
    assert calls(arrows) == [('bf("Jupiter", "Neptune")', '("Saturn", "Uranus")'),
                             ("digits(235)", "15"), ('split_words("a,b")', '["a", "b"]'),
                             ("count(n=3)", "6"), ("count(n=0)", "0")]


def test_only_literal_calls_of_plain_names_count():
    assert calls("Write f(s: str) -> str, the reverse of s.") == []  # a signature
    assert calls("def g(x=1) -> int: ...") == []
    assert calls("Make obj.size(3) == 4 hold, and total(xs) == 10 for the list.") == []
    assert calls("When sum_up([1, 2]) == three, stop.") == []  # no literal value
    assert calls(">>> x = f(2)\n4\n>>> f(3)\nnot a literal") == []
    assert calls("f(1) == 2 and again f(1) == 2.") == [("f(1)", "2")]  # once


def test_a_value_that_goes_on_is_not_read_as_the_value():
    """``-> 19 - 5 - 6 = 8`` shows a working, not the value 19; ``== ""aaa"`` is a typo."""
    assert calls('fruit("5 apples", 19) ->19 - 5 - 6 = 8\nf([1, 3]) == 1 + 9 = 10') == []
    assert calls('find_max(["aaa", "bb"]) == ""aaa"') == []
    assert calls("f(2) == 4 # four, and f(3) == 9.") == [("f(2)", "4"), ("f(3)", "9")]
    assert calls('to_bin(15)   # returns "db1111db"') == [("to_bin(15)", '"db1111db"')]


PROSE_TASK = '''def maximum(arr: list, k: int) -> list:
    """The k largest numbers of arr, sorted.

    Example 1:
        Input: arr = [-3, -4, 5], k = 3
        Output: [-4, -3, 5]

    Example 2:
        Input: arr = [4, -4, 4], k = 2

        Output: [4, 4]
    For arr = [1], k = 1 the output should be [1].
    Example 3:
        Input: the list [2, 1] and k = 1
        Output: [2]
    """'''


def test_prose_examples_of_the_tasks_one_signature_are_read_by_position():
    """Inputs written as ``arr = [...]`` name the function's parameters in the task's own
    words (not always the signature's): they are passed by position, in their order."""
    found = task_examples(PROSE_TASK)
    assert [(ex.call, ex.expected, ex.loose) for ex in found] == [
        ("maximum([-3, -4, 5], 3)", "[-4, -3, 5]", True),
        ("maximum([4, -4, 4], 2)", "[4, 4]", True),
        ("maximum([1], 1)", "[1]", True)]  # "the list [2, 1] and k = 1" is no literal
    assert found[0].args == "([-3, -4, 5], 3)" and found[0].kwargs == "{}"
    assert calls("Input: [1, 2]\nOutput: 3") == []  # no signature: whose example?
    two = "def f(x):\n    pass\ndef g(x):\n    '''Input: [1]\n    Output: 1'''"
    assert calls(two) == []  # two signatures: not clear which one
    assert calls("def f(x):\n    Input: 1, y = 2\n    Output: 3") == []
    assert calls("def f(x):\n    Input: 3\n    Output: 3 # three\n") == [("f(3)", "3")]


def probe(session, task: str, code: str, tools=()):
    hint = TaskExamples()
    hint.reset(RunStart(task=task, tools=tools))
    step = Step(1, code, "", True, Observation())
    probe_cell = hint.probe(step)
    if probe_cell is not None:
        hint.read_probe(step, session.execute(probe_cell, timeout=10))
    return hint, step, probe_cell


def test_the_probe_runs_the_examples_in_a_real_kernel_and_leaves_nothing(session):
    session.execute(WRONG_RLE)
    cell = probe_code(task_examples(RLE_TASK))
    obs = session.execute(cell, timeout=10)
    assert read_results(obs.stdout) == [(0, "'a3b1c2'", False), (1, "''", True)]
    assert "__codeact_examples" not in session.execute("print(dir())").stdout
    # a function that prints and raises: its prints are swallowed, the error is told
    session.execute("def run_length(s):\n    print('working')\n    return s[0]")
    obs = session.execute(cell, timeout=10)
    assert "working" not in obs.stdout
    assert read_results(obs.stdout) == [
        (0, "'a'", False), (1, "raises IndexError: string index out of range", False)]
    # floats are compared with a tolerance; a one-item tuple against ("Venus") is unclear
    session.execute("def digits(n):\n    return 0.1 + 0.2 + 14.7\n"
                    "def bf(a, b):\n    return ('Venus',)")
    obs = session.execute(probe_code(task_examples(
        'digits(235) -> 15.\nbf("Earth", "Mercury") ==> ("Venus")')), timeout=10)
    assert read_results(obs.stdout) == [(0, "15.0", True), (1, "('Venus',)", None)]
    # a value of another type says so: a list where the task shows a tuple
    session.execute("def bf(a, b):\n    return ['Saturn', 'Uranus']")
    obs = session.execute(probe_code(task_examples(
        'bf("Jupiter", "Neptune") ==> ("Saturn", "Uranus")')), timeout=10)
    assert read_results(obs.stdout) == [
        (0, "['Saturn', 'Uranus'] (a list; the task's value is a tuple)", False)]


def test_a_prose_example_that_does_not_fit_the_signature_proves_nothing(session):
    session.execute("def maximum(arr, k):\n    return sorted(arr)[-k:][::-1]")
    obs = session.execute(probe_code(task_examples(PROSE_TASK)), timeout=10)
    assert read_results(obs.stdout) == [(0, "[5, -3, -4]", False), (1, "[4, 4]", True),
                                        (2, "[1]", True)]
    session.execute("def maximum(arr):\n    return sorted(arr)")  # takes one input
    obs = session.execute(probe_code(task_examples(PROSE_TASK)), timeout=10)
    assert read_results(obs.stdout) == []  # not "raises TypeError": it proves nothing
    session.execute("def f(x):\n    return x")  # an explicit call that does not fit does
    obs = session.execute(probe_code(task_examples("f(1, 2) == 3")), timeout=10)
    assert read_results(obs.stdout)[0][1].startswith("raises TypeError")


def test_the_hint_names_a_failing_example_and_refuses_that_function_once(session):
    session.execute(WRONG_RLE)
    hint, step, cell = probe(session, RLE_TASK, WRONG_RLE)
    assert cell is not None
    advice = hint.after_action(step, Verdict())
    assert advice is not None and advice.problem
    assert advice.note == ("Note: your `run_length` does not match the task's own examples: "
                           "`run_length('aaabcc')` returns 'a3b1c2', the task says 'a3bc2'. "
                           "Fix `run_length` before you submit it.")
    refusal = hint.checks_answer(WRONG_RLE)
    assert refusal and "the task says 'a3bc2'" in refusal
    assert hint.checks_answer("42") is None  # not that function
    # fixed: nothing to say, nothing refused
    session.execute(RIGHT_RLE)
    hint.read_probe(step, session.execute(hint.probe(Step(2, RIGHT_RLE, "", True,
                                                          Observation())), timeout=10))
    assert hint.checks_answer(RIGHT_RLE) is None


def test_no_probe_for_other_functions_failed_cells_or_tool_callers(session):
    assert probe(session, RLE_TASK, "def helper(x):\n    return x")[2] is None
    assert probe(session, "What is 2 + 2?", WRONG_RLE)[2] is None
    hint = TaskExamples()
    hint.reset(RunStart(task=RLE_TASK))
    assert hint.probe(Step(1, WRONG_RLE, "", False, Observation())) is None

    @tool
    def lookup(s: str) -> str:
        """Look a word up."""
        return s

    calls_tool = "def run_length(s):\n    return lookup(s)"
    assert probe(session, RLE_TASK, calls_tool, tools=[lookup])[2] is None
    # a task example of a tool itself is never run
    assert probe(session, "lookup('a') == 'a'", "def lookup(s):\n    return s",
                 tools=[lookup])[2] is None


def reply(code: str) -> str:
    return f"<execute>\n{code}\n</execute>"


def test_agent_tells_the_model_and_the_fixed_function_is_submitted(session):
    replies = iter([reply(WRONG_RLE + "\nprint(run_length('aaabcc'))  # Output: 'a3bc2'"),
                    reply("final_answer(run_length)"),
                    reply(RIGHT_RLE + "\nfinal_answer(run_length)")])
    llm = ScriptedLLM(lambda messages: next(replies))
    traj = Agent(llm, session=session, max_turns=5).run(RLE_TASK)
    first = traj.turns[0].observation or ""
    assert first.startswith("a3b1c2")
    assert "`run_length('aaabcc')` returns 'a3b1c2', the task says 'a3bc2'" in first
    assert "the task says 'a3bc2'" in (traj.turns[1].observation or "")  # refused
    assert traj.answer is not None and "else ''" in traj.answer
    assert len(traj.turns) == 3


def test_agent_without_the_hint_or_with_a_person_approving_runs_no_probe(session):
    def run(**kwargs):
        replies = iter([reply(WRONG_RLE), reply("final_answer(run_length)")])
        return Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                     max_turns=5, **kwargs).run(RLE_TASK)

    off = [name for name in default_hint_names() if name != "task_examples"]
    for traj in (run(hints=off), run(approve=lambda code: Approval())):
        assert "task's own examples" not in (traj.turns[0].observation or "")
        assert traj.answer is not None and len(traj.turns) == 2
