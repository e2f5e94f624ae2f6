"""The count check: the counts a task names, printed lists, and the note in the loop."""

from codeact.agent import Agent
from codeact.agent.hints.base import FirmNote, RunStart, Step, Verdict
from codeact.agent.hints.counts import CountCheck, asked_counts, printed_lengths
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import Session
from codeact.runtime.observation import ExecutionError, Observation


def test_counts_named_by_a_task():
    assert asked_counts("the sum of the squares of the first 100 prime numbers") == \
        {100: "first 100 prime numbers"}
    assert asked_counts("List the 10 largest cities.") == {10: "10 largest cities"}
    assert asked_counts("the top 5 words") == {5: "top 5 words"}
    for none in ["primes below 100", "In 2024 the numbers rose.", "between 10 and 20 items",
                 "What is 2 + 2?", "2 apples", "orders 40 units of GL-330 and 25 units",
                 "a 45 minutes meeting", "for 3 servings",
                 "rotated left by 6 positions (the first 6 move to the end)",
                 "shift every letter 15 places forward", "grow by 20 cells"]:
        assert asked_counts(none) == {}, none


def test_printed_lists_are_measured_safely():
    assert printed_lengths("[4, 9, 25] 38\n['a', 'b']") == [3, 2]
    assert printed_lengths("[1] [x, y] [__import__('os')]") == []


def _step(output: str, ok: bool = True) -> Step:
    return Step(1, "code", output, ok, Observation(stdout=output))


def test_a_list_of_the_asked_length_with_one_value_repeated_is_noted():
    hint = CountCheck()
    hint.reset(RunStart("Sum the squares of the first 5 primes."))
    advice = hint.after_action(_step("[2, 2, 2, 2, 2]"), Verdict())
    assert advice and advice.problem and "every one of them is 2" in advice.note
    assert "every item of your list of 5 is 2" in hint.checks_answer("20")
    assert hint.after_action(_step("[2, 3, 5, 7, 11] 208"), Verdict()) is None
    assert hint.checks_answer("208") is None  # put right
    hint.reset(RunStart("Show the first 3 rows."))
    assert hint.after_action(_step("[0, 1, 0]"), Verdict()) is None  # not all one value


def test_one_note_when_no_printed_list_has_the_asked_length():
    hint = CountCheck()
    hint.reset(RunStart("Sum the squares of the first 5 primes."))
    assert hint.after_action(_step("[2, 3, 5, 7, 11] 208"), Verdict()) is None
    assert hint.checks_answer("208") is None
    advice = hint.after_action(_step("[2, 3, 5] 38"), Verdict())
    assert advice and 'asks for "first 5 primes", but the list printed above has 3 items' \
        in advice.note
    assert hint.checks_answer("38").startswith('The task asks for "first 5 primes", but')
    again = hint.after_action(_step("[2, 3] 13"), Verdict())
    assert again and "has again 2 items" in again.note and again.problem
    hint.after_action(_step("[2, 3, 5, 7, 11] 208"), Verdict())
    assert hint.checks_answer("208") is None  # put right
    hint.reset(RunStart("What is 2 + 2?"))
    assert hint.after_action(_step("[1, 2, 3]"), Verdict()) is None
    # a longer list the cell cuts to the asked count is put right; one it does not is not
    hint.reset(RunStart("Sum the squares of the first 5 primes."))
    sliced = Step(1, "p = primes(20)\nprint(p, sum(x * x for x in p[:5]))",
                  "[2, 3, 5, 7, 11, 13, 17, 19] 208", True, Observation(stdout="."))
    assert hint.after_action(sliced, Verdict()) is None and hint.checks_answer("208") is None
    cut_short = Step(1, "p = primes(3)[:5]\nprint(p)", "[2, 3, 5] 38", True,
                     Observation(stdout="."))
    assert hint.after_action(cut_short, Verdict()).problem  # [:5] of 3 items is still 3
    hint.reset(RunStart("Sum the squares of the first 5 primes."))
    longer = hint.after_action(_step("[2, 3, 5, 7, 11, 13, 17] 666"), Verdict())
    assert longer.problem and "Keep only the first 5 (for example `items[:5]`)" in longer.note


def test_in_the_loop_the_note_follows_the_short_list():
    session = Session(sandbox="bwrap")
    session.start()
    try:
        replies = iter(["<execute>p = [2, 3, 5]\nprint(p, sum(x * x for x in p))</execute>",
                        "<solution>38</solution>",
                        "<execute>p = [2, 3, 5, 7, 11]\nprint(p, sum(x * x for x in p))"
                        "</execute>", "<solution>208</solution>"])
        traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run(
            "Sum the squares of the first 5 primes.")
    finally:
        session.close()
    assert "but the list printed above has 3 items" in traj.turns[0].observation
    assert traj.turns[1].action == "answer_refused"
    assert traj.answer == "208"


def test_a_ranked_count_never_shown_is_questioned_before_the_answer():
    """Seen at temperature 0.7: the sum printed as one number, no list to check."""
    assert asked_counts("the first 100 prime numbers and 20 units", ranked=True) == \
        {100: "first 100 prime numbers"}
    hint = CountCheck()
    hint.reset(RunStart("Sum the squares of the first 5 primes."))
    assert hint.after_action(_step("208"), Verdict()) is None
    note = hint.checks_answer("208")
    assert note and "no output has shown them yet" in note and "first 5 primes" in note
    assert hint.checks_answer("[2, 3, 5, 7, 11]") is None  # the answer shows them
    hint.after_action(_step("[2, 3, 5, 7, 11] 208"), Verdict())
    assert hint.checks_answer("208") is None
    hint.reset(RunStart("Order 20 units of each SKU. What is the cost?"))  # not ranked
    assert hint.checks_answer("120.5") is None


def test_a_range_ending_at_the_count_is_named_as_the_mistake():
    from codeact.agent.hints.counts import count_as_bound

    assert count_as_bound("[n for n in range(2, 101) if is_prime(n)]", 100) == "range(2, 101)"
    assert count_as_bound("for i in range(100):", 100) == "range(100)"
    assert count_as_bound("range(2, 1001)", 100) is None
    assert count_as_bound("sympy.primerange(1, 101)", 100) is None  # not Python's range
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    step = Step(1, "primes = [n for n in range(2, 101) if all(n % d for d in range(2, n))]\n"
                "print(primes)", "[2, 3, 5, 7, 11, 13, 17, 19, 23]", True,
                Observation(stdout="."))
    advice = hint.after_action(step, Verdict())
    assert advice is not None and "`range(2, 101)` stops at the number 100, not after 100 " \
        "items" in advice.note and "while len(items) < 100" in advice.note
    # the note carries the cell's own condition, counted up to the asked number of items
    assert "items, n = [], 2\nwhile len(items) < 100:\n    if all(" in advice.note


def test_another_call_given_the_count_as_its_bound_is_named_with_a_fix():
    """Seen at temperature 0.7: `sympy.primerange(1, 101)` for "the first 100 primes",
    told only to "keep generating" for six turns."""
    from codeact.agent.hints.counts import call_with_count_as_bound

    assert call_with_count_as_bound("p = list(sympy.primerange(1, 101))", 100) == \
        "sympy.primerange(1, 101)"
    assert call_with_count_as_bound("for p in np.arange(100):\n    pass", 100) == "np.arange(100)"
    assert call_with_count_as_bound("print(len(x))\nfinal_answer(100)", 100) is None  # seen
    assert call_with_count_as_bound("range(2, 101)", 100) is None  # range has its own note
    assert call_with_count_as_bound("sympy.primerange(1, 1000)", 100) is None
    assert call_with_count_as_bound("f(x=100)", 100) is None
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    step = Step(1, "primes = list(sympy.primerange(1, 101))\nprint(primes)",
                "[2, 3, 5, 7, 11, 13, 17, 19, 23]", True, Observation(stdout="."))
    advice = hint.after_action(step, Verdict())
    assert advice is not None and "`sympy.primerange(1, 101)` takes 101 as the upper " \
        "bound of the values" in advice.note and \
        "keep the first 100 (`list(sympy.primerange(1, 10000))[:100]`)" in advice.note
    assert "upper bound" in hint.checks_answer("65796")  # the refusal says it too


def test_a_name_from_the_notes_loop_that_never_ran_is_explained():
    """Seen at temperature 0.7: `squares = items` right after the note that showed the
    counted loop, as if the note's code had run."""
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    short = Step(1, "primes = [n for n in range(2, 101) if n > 1]\nprint(primes)",
                 "[2, 3, 5]", True, Observation(stdout="."))
    assert "while len(items) < 100" in hint.after_action(short, Verdict()).note
    error = ExecutionError("NameError", "name 'items' is not defined")
    failed = Step(2, "squares = items", "NameError: name 'items' is not defined", False,
                  Observation(error=error))
    advice = hint.after_action(failed, Verdict())
    assert advice is not None and "`items` is set by the while loop shown in an earlier " \
        "note" in advice.note
    other = Step(3, "print(total)", "NameError", False,
                 Observation(error=ExecutionError("NameError", "name 'total' is not defined")))
    assert hint.after_action(other, Verdict()) is None
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    assert hint.after_action(failed, Verdict()) is None  # no loop shown in this run


def test_a_cell_still_bounded_by_the_count_is_noted_while_the_mismatch_stands():
    """Seen at temperature 0.7: the 25-prime sum printed alone after the note, then "give
    the answer now" from the repeat guard."""
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    cell = "items = [i for i in range(2, 101) if is_prime(i)]\n"
    summed = Step(1, cell + "print(sum(i ** 2 for i in items))", "65796", True,
                  Observation(stdout="65796\n"))
    assert hint.after_action(summed, Verdict()) is None  # nothing measured yet
    listed = Step(2, cell + "print(items)", "[2, 3, 5]", True, Observation(stdout="."))
    assert hint.after_action(listed, Verdict()) is not None
    advice = hint.after_action(summed, Verdict())
    assert advice is not None and advice.problem and "still uses the count as a bound" in \
        advice.note and "your list has 3 items" in advice.note
    other = Step(3, "print(sum(i ** 2 for i in found))", "8", True, Observation(stdout="8"))
    assert hint.after_action(other, Verdict()) is None  # not bounded: not judged


def test_the_count_the_task_names_is_refused_as_another_quantity():
    """Seen at temperature 0.7: 100, the length of the right list, submitted for "the sum
    of the squares of the first 100 primes"."""
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    hint.shown = True  # the list of 100 was printed: only the echoed count is at issue
    said = hint.checks_answer("100")
    assert isinstance(said, FirmNote) and "is the count the task names" in said
    assert "not the sum it asks for" in said
    assert hint.checks_answer("8384727") is None
    hint.reset(RunStart("How many of the first 100 numbers are even?"))
    hint.shown = True
    assert hint.checks_answer("100") is None  # a count is asked: not judged


def test_the_counted_loop_keeps_the_cells_condition_and_item():
    from codeact.agent.hints.counts import counted_loop

    cell = ("squares = [n ** 2 for n in range(2, 101) if all(n % d != 0 for d in "
            "range(2, int(n ** 0.5) + 1))]\nprint(sum(squares))")
    namespace: dict = {}
    exec(counted_loop(cell, 100), namespace)  # the loop the note shows, run as it is
    assert len(namespace["items"]) == 100 and sum(namespace["items"]) == 8384727
    loop = ("odd = []\nfor k in range(1, 11):\n    if k % 2:\n        odd.append(k)")
    assert counted_loop(loop, 10) == ("items, k = [], 1\nwhile len(items) < 10:\n"
                                      "    if k % 2:\n        items.append(k)\n    k += 1\n"
                                      "print(len(items))")
    assert counted_loop("[i for i in range(100)]", 100) is None  # no condition
    assert counted_loop("[i for i in range(2, 500) if i % 3]", 100) is None  # other bound
    assert counted_loop("[i for i in range(2, 101) if", 100) is None  # no parse


def test_a_cell_that_counts_up_to_the_asked_number_puts_the_mismatch_right():
    """Seen: the loop the note showed gave 8384727, printed as one number; the answer was
    refused because no list of 100 had been printed."""
    from codeact.agent.hints.counts import counts_up_to

    assert counts_up_to("while len(items) < 100:\n    items.append(1)", {100: "x"})
    assert counts_up_to("while len(self.found) != 100:", {100: "x"})
    assert not counts_up_to("while len(items) < 1000:", {100: "x"})
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    short = Step(1, "primes = [n for n in range(2, 101) if is_prime(n)]\nprint(primes)",
                 "[2, 3, 5, 7, 11, 13, 17, 19, 23]", True, Observation(stdout="."))
    assert hint.after_action(short, Verdict()) is not None
    assert hint.checks_answer("65796") is not None  # the mismatch stands
    grown = Step(2, "items, i = [], 2\nwhile len(items) < 100:\n    if is_prime(i):\n"
                 "        items.append(i)\n    i += 1\nprint(sum(p ** 2 for p in items))",
                 "8384727", True, Observation(stdout="8384727\n"))
    assert hint.after_action(grown, Verdict()) is None
    assert hint.checks_answer("8384727") is None


def test_an_answer_while_a_measured_mismatch_stands_is_refused_firmly():
    """Seen at temperature 0.7: the run's one refusal went to "print them first"; 65796
    then stood next to a list of 25 where the task asked for 100."""
    from codeact.agent.hints.base import FirmNote

    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    assert not isinstance(hint.checks_answer("65796"), FirmNote)  # nothing measured yet
    hint.after_action(Step(1, "print([2, 3, 5])", "[2, 3, 5, 7, 11]", True,
                           Observation(stdout=".")), Verdict())
    assert isinstance(hint.checks_answer("65796"), FirmNote)


def test_a_preview_of_the_counted_list_is_not_taken_for_the_result():
    """Seen: `print(len(items), items[:5])` (the note's own loop) printed "100 [2, 3, 5, 7,
    11]", and the note said the list had 5 items, four turns in a row."""
    hint = CountCheck()
    hint.reset(RunStart("What is the sum of the squares of the first 100 prime numbers?"))
    hint.after_action(Step(1, "print([2, 3])", "[2, 3, 5]", True, Observation(stdout=".")),
                      Verdict())
    grown = Step(2, "items, i = [], 2\nwhile len(items) < 100:\n    if is_prime(i):\n"
                 "        items.append(i)\n    i += 1\nprint(len(items), items[:5])",
                 "100 [2, 3, 5, 7, 11]", True, Observation(stdout="."))
    assert hint.after_action(grown, Verdict()) is None
    assert hint.checks_answer("8384727") is None
