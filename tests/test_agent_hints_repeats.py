"""Repeat detection on its own; the agent-level behaviour is in test_agent.py."""

from codeact.agent.hints.base import Step, Verdict
from codeact.agent.hints.repeats import STOP_AT, RepeatGuard, normalize
from codeact.runtime.observation import Observation


def test_ipython_cell_counters_are_blanked():
    a = "Cell In[3], line 1\n----> 1 f(x)\nNameError: name 'x' is not defined"
    b = "Cell In[14], line 1\n----> 1 f(x)\nNameError: name 'x' is not defined"
    assert normalize(a) == normalize(b)
    assert normalize("Out[2]: 5") == normalize("Out[9]: 5")
    old_style = "<ipython-input-{}> in f()"
    assert normalize(old_style.format("3-0f1e2d3c4b5a")) == \
        normalize(old_style.format("7-abcdef012345"))
    assert normalize("Cell In[3]\nValueError: 1") != normalize("Cell In[3]\nValueError: 2")


def test_note_on_second_repeat_stop_on_fourth():
    guard = RepeatGuard()
    results = [guard.check("f(x)", f"Cell In[{i}], line 1\nNameError: x") for i in range(STOP_AT)]
    assert results[0] == (None, False)
    assert results[1][0] and "second time" in results[1][0] and not results[1][1]
    assert results[-1][1] is True


def test_silent_output_is_not_a_repeat_but_different_code_same_output_is():
    guard = RepeatGuard()
    assert guard.check("def a(): pass", "") == (None, False)
    assert guard.check("def b(): pass", "") == (None, False)
    guard.check("print(42)", "42")
    note, stop = guard.check("print(6 * 7)", "42")
    assert note and "from different actions" in note and not stop
    # the same action again: its own count is said, not "from different actions"
    note, stop = guard.check("print(6 * 7)", "42")
    assert note and note.startswith("Note: this is the third time you got exactly this "
                                    "output, twice from this same action.") and not stop


def test_true_or_false_from_different_checks_is_no_repeat_but_the_same_check_is():
    guard = RepeatGuard()
    for i, date in enumerate(["15-01-2012", "04-0-2040", "06/04/2020", "02-30-2020"]):
        assert guard.check(f"valid_date({date!r})", f"Out[{i}]: False") == (None, False)
    assert guard.check("valid_date('')", "Out: False") == (None, False)
    assert guard.check("print(f(1), f(2))", "True\nFalse") == (None, False)
    assert guard.check("print(f(3), f(4))", "True\nFalse") == (None, False)
    note, _ = guard.check("valid_date('04-0-2040')", "Out[9]: False")
    assert note and "this same action gave this same output" in note


def test_reset_forgets_the_counts():
    guard = RepeatGuard()
    guard.check("x", "1")
    guard.reset()
    assert guard.check("x", "1") == (None, False)


def test_text_format_advice_names_no_final_answer_function():
    guard = RepeatGuard(code_format=False)
    guard.check("call", "out")
    note, _ = guard.check("call", "out")
    assert note and "final_answer" not in note and "<solution>" in note


def test_a_repeated_failure_is_told_to_fix_the_code_not_to_answer():
    guard = RepeatGuard()
    guard.check("f(1)", "KeyError: 'x'", failed=True)
    note, stop = guard.check("f(1)", "KeyError: 'x'", failed=True)
    assert note and "failed with this same error" in note and "Read the error" in note
    assert "give the answer now" not in note and not stop
    json_guard = RepeatGuard(code_format=False)
    json_guard.check("call", "Error: bad", failed=True)
    note, _ = json_guard.check("call", "Error: bad", failed=True)
    assert note and "different arguments" in note


def test_the_same_error_from_different_code_is_told_to_fix_it_not_to_answer():
    """Seen (README task at 0.7): a second IndexError from a new version of the loop was
    told "If your work already answers the task, give the answer now"."""
    guard = RepeatGuard()
    error = "----> 5     if primes[-1] + 1 > 7:\nIndexError: list index out of range"
    guard.check("primes = []\nwhile primes[-1] < 7: pass", error, failed=True)
    note, stop = guard.check("primes = []\nif primes[-1] + 1 > 7: pass", error, failed=True)
    assert note and "from different code" in note and "Read the error" in note
    assert "give the answer now" not in note and not stop


def test_the_same_program_with_other_comments_is_the_same_action():
    guard = RepeatGuard()
    guard.check("print(f(1))", "Cell In[1]\nNameError: f", failed=True)
    note, _ = guard.check("print(f(1))  # Output: 2", "Cell In[2]\nNameError: f", failed=True)
    assert note and "same action failed with this same error" in note
    guard.after_action(Step(1, "x = f(2)", "", False, Observation()), Verdict())
    assert guard.vetoes("x = f(2)   # try again\n") is not None
    assert guard.vetoes("x = f(3)") is None
