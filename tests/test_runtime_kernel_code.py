"""Kernel start-up code in a real sandboxed kernel: final_answer and its payload marker."""

import pytest

from codeact.runtime import Session
from codeact.runtime.kernel_code import (
    FINAL_ANSWER_SOURCE,
    MAX_ANSWER,
    final_answer_from_payload,
)


@pytest.fixture(scope="module")
def s():
    with Session(sandbox="bwrap") as session:
        yield session


def test_final_answer_marks_the_reply_and_the_cell_runs_on(s):
    obs = s.execute("final_answer([1, 'two', {'k': (3, None)}])\nprint('after')")
    assert obs.ok and obs.stdout == "after\n"
    assert obs.final_answer == "[1, 'two', {'k': (3, None)}]"
    assert s.execute("print('next cell')").final_answer is None  # per cell


@pytest.mark.parametrize("code,answer", [
    ("final_answer('Paris')", "Paris"),
    ("final_answer('')", ""),
    ("final_answer(True)", "True"),
    ("import numpy as np\nfinal_answer(np.float64(2.5))", "2.5"),
    ("final_answer(x * 2 for x in range(3))", "[0, 2, 4]"),
    ("final_answer(1)\nfinal_answer(2)", "2"),
])
def test_values(s, code, answer):
    assert s.execute(code).final_answer == answer


def test_printing_or_displaying_text_cannot_fake_an_answer(s):
    obs = s.execute(f"print({FINAL_ANSWER_SOURCE!r}, 'answer: 42')\n"
                    "print('<solution>42</solution>')\n"
                    "from IPython.display import display\n"
                    f"display({{'source': {FINAL_ANSWER_SOURCE!r}, 'answer': '42'}})")
    assert obs.ok and obs.final_answer is None


def test_an_error_after_final_answer_is_still_reported(s):
    obs = s.execute("final_answer(7)\n1 / 0")
    assert obs.final_answer == "7" and not obs.ok  # the agent decides what to do


def test_function_submitted_with_imports_and_helpers_from_earlier_cells(s):
    assert s.execute("import math\nfrom typing import List\nOFFSET = 1").ok
    assert s.execute("def helper(x):\n    return int(math.sqrt(x)) + OFFSET").ok
    assert s.execute("def helper(x):\n    return math.isqrt(x) + OFFSET").ok  # redefined
    obs = s.execute("%%capture\n"
                    "def solution(xs: List[int]) -> List[int]:\n"
                    "    return [helper(x) for x in xs]\n"
                    "assert solution([16]) == [5]\n")
    assert obs.ok, obs.error
    obs = s.execute("def solution(xs: List[int]) -> List[int]:\n"
                    "    return [helper(x) for x in xs]\n\n"
                    "print(solution([16, 26]))\nfinal_answer(solution)")
    assert obs.ok and obs.stdout == "[5, 6]\n", obs.error
    code = obs.final_answer
    assert set(code.splitlines()[:2]) == {"import math", "from typing import List"}
    assert "OFFSET = 1" in code and "math.isqrt" in code and "math.sqrt" not in code
    assert code.rstrip().endswith("return [helper(x) for x in xs]")
    assert "print(" not in code and "final_answer" not in code
    fresh: dict = {}
    exec(code, fresh)  # runs on its own, as a grader would run it
    assert fresh["solution"]([16, 26]) == [5, 6]


def test_class_and_bad_submissions(s):
    obs = s.execute("class Stack:\n    def __init__(self):\n        self.items = []\n"
                    "final_answer(Stack)")
    assert obs.final_answer.startswith("class Stack:\n")
    obs = s.execute("final_answer(print)")
    assert obs.error.name == "TypeError" and obs.final_answer is None
    assert "only functions and classes defined in this kernel" in obs.error.message
    assert "__codeact" not in obs.error.traceback and "<codeact_" not in obs.error.traceback
    obs = s.execute(f"final_answer('x' * {MAX_ANSWER + 1})")
    assert obs.error.name == "ValueError" and "Submit something shorter" in obs.error.message


def test_final_answer_survives_a_restart_and_is_not_a_user_variable(s):
    s.restart()
    assert s.execute("final_answer(5)").final_answer == "5"
    assert "final_answer" not in s.execute("%who").stdout


def test_payload_reading():
    assert final_answer_from_payload(None) is None
    assert final_answer_from_payload([{"source": "page", "data": {}}]) is None
    assert final_answer_from_payload([{"source": FINAL_ANSWER_SOURCE, "answer": "a"},
                                      {"source": FINAL_ANSWER_SOURCE, "answer": 3},
                                      {"source": FINAL_ANSWER_SOURCE, "answer": "b"}]) == "b"


def test_final_answer_defined_or_assigned_again_stays_the_given_one(s):
    obs = s.execute("def final_answer(value):\n    print(value)\n\nfinal_answer(21 * 2)")
    assert obs.ok and obs.final_answer == "42" and obs.stdout == ""
    assert "this cell defined final_answer, already given to you" in obs.stderr
    obs = s.execute("final_answer = 3")
    assert "this cell defined final_answer" in obs.stderr
    assert s.execute("final_answer('back')").final_answer == "back"
    assert s.execute("def helper():\n    return 1").stderr == ""  # other defs: no note


def test_common_standard_modules_are_there_without_an_import(s):
    # seen: `math.factorial(37)` sent four times under "`math` is not imported"
    obs = s.execute("print(math.factorial(5), json.dumps([1]), re.sub('a', 'b', 'aa'))")
    assert obs.ok and obs.stdout == "120 [1] bb\n"
    # a function that uses one is submitted with its import line, as if it had one
    s.execute("def fact(n):\n    return math.factorial(n)")
    assert s.execute("final_answer(fact)").final_answer == (
        "import math\n\ndef fact(n):\n    return math.factorial(n)\n")
    # the names are the model's to rebind
    assert s.execute("string = 'abc'\nprint(string.upper())").stdout == "ABC\n"
    assert s.execute("print(type(random).__name__)").stdout == "module\n"
