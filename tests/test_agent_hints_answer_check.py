"""The answer check: what it refuses, and in the loop, once per run."""

import pytest

from codeact.agent import Agent
from codeact.agent.hints.answer_check import AnswerCheck, pandas_display
from codeact.agent.hints.base import FirmNote, RunStart, Step, Verdict
from codeact.llm.scripted import ScriptedLLM


def _check(answer: str, task: str = "Compute it.") -> str | None:
    hint = AnswerCheck()
    hint.reset(RunStart(task))
    return hint.checks_answer(answer)


@pytest.mark.parametrize("answer", ["", "  ", "None", "nan", "Traceback (most recent call "
                                    "last):\n  File", "KeyError: 'x'", "Error: no such tool",
                                    "ValueError('bad')", "No dates found that meet the criteria.",
                                    "SKU example_sku does not have 'total_stock' key.",
                                    "Could not find any matching book",
                                    "No such file or directory: 'books.csv'"])
def test_non_answers_are_refused(answer):
    assert _check(answer)


@pytest.mark.parametrize("answer", ["42", "Paris", "Errors were found in 3 lines",
                                    "def f():\n    return None", "['a', 'b']", "none of them",
                                    "not found", "Nothing to report", "{[1], [2]}"])
def test_real_answers_pass(answer):
    assert _check(answer) is None


def test_a_quoted_value_inside_a_sentence_is_asked_for_alone():
    note = _check("The run-length encoded string is '3a4b2c6d1e'.")
    assert note is not None and "final_answer('3a4b2c6d1e')" in note
    assert "final_answer('balloon')" in (_check('The decoded word is "balloon" here.') or "")
    for prose in ["don't stop me now, it's really fine", "Use 'x' or 'y' as the name",
                  "'3a4b'", "It is 'x'.", "The answer is 42."]:
        assert _check(prose) is None, prose
    chat = AnswerCheck()
    chat.reset(RunStart("t", chat=True))  # in chat, replies are prose
    assert chat.checks_answer("The run-length encoded string is '3a4b2c6d1e'.") is None


def test_a_number_of_another_form_than_the_task_names_is_refused():
    whole = "How many full 250 g bags can be filled from 12 lb? Answer with a whole number."
    assert "asks for a whole number, and your answer 21.6 is not one" in _check("21.6", whole)
    assert _check("21", whole) is None and _check("21.0", whole) is None
    rounded = "What is the average price, rounded to 2 decimals?"
    assert "asks for 2 decimal places, and your answer 210.4567 has more" in \
        _check("210.4567", rounded)
    assert _check("210.4", rounded) is None and _check("210.45", rounded) is None
    assert "1 decimal place," in _check("1702.75", "Round to one decimal place.")
    assert _check("3.75", "What is the mean?") is None


def test_a_true_or_false_task_refuses_other_answers_once():
    task = "Does one serving of 'pancakes' contain more fat than 'curry'? Answer true or false."
    note = _check("['lentil soup', 'pancakes']", task)
    assert note is not None and note.startswith("The task asks for true or false")
    assert not isinstance(note, FirmNote)  # a resend stands
    for answer in ["False", "true", "True.", "No", "yes, it does"]:
        assert _check(answer, task) is None, answer
    assert "asks for yes or no" in (_check("3.5", "Is 3.5 above 3? Yes or no?") or "")
    assert _check("3.5", "What is the mean?") is None
    chat = AnswerCheck()
    chat.reset(RunStart(task, chat=True))  # in chat, replies are prose
    assert chat.checks_answer("Pancakes have less fat than the curry.") is None


def test_a_count_needs_a_number_but_code_and_prose_pass():
    assert _check("several", "How many primes are below 20?")
    assert _check("8", "How many primes are below 20?") is None
    # the digits of an id are no number (seen: "M661 has no books on loan afterwards.")
    assert _check("M661 has none", "How many books does M661 have on loan?")
    assert _check("M661 has 3", "How many books does M661 have on loan?") is None
    assert _check("def count(s):\n    return len(s)", "Write def count(s): the number of "
                  "letters") is None


def test_the_loop_refuses_once_then_takes_the_next_answer(session):
    replies = iter(["<execute>print('found: 6')\nfinal_answer('')</execute>",
                    "<execute>final_answer([])</execute>",
                    "<execute>final_answer([])</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 resample=0).run("Find it.")
    # the empty string is refused firmly; [] is questioned once, then stands
    assert [t.action for t in traj.turns] == ["code", "code", "code+final_answer"]
    assert "Your answer is empty." in traj.turns[0].observation
    assert "Your answer is empty ([])" in traj.turns[1].observation
    assert traj.stop_reason == "solution" and traj.answer == "[]"  # a second one stands


def test_an_answer_that_can_never_be_right_is_refused_each_time_up_to_a_limit(session):
    from codeact.agent.loop import MAX_FIRM_REFUSALS

    sent = ["<execute>final_answer(None)</execute>"] * (MAX_FIRM_REFUSALS + 1)
    replies = iter(["<execute>print(6 * 7)\nfinal_answer(None)</execute>", sent[0],
                    "<execute>final_answer(42)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 resample=0).run("Find it.")
    assert [t.action for t in traj.turns] == ["code", "code", "code+final_answer"]
    assert all("which is not an answer" in t.observation for t in traj.turns[:2])
    assert traj.answer == "42"
    replies = iter(sent)  # a model that insists: its answer stands after the limit
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 resample=0).run("Find it.")
    assert len(traj.turns) == MAX_FIRM_REFUSALS + 1 and traj.answer == "None"


def test_a_refused_solution_tag_is_recorded_as_refused(session):
    replies = iter(["<solution>None</solution>", "<solution>7</solution>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("Find it.")
    assert [t.action for t in traj.turns] == ["answer_refused", "solution"]
    assert traj.answer == "7"


@pytest.mark.parametrize("answer", ["[]", "{}", "()", "set()", "''"])
def test_an_empty_collection_is_questioned_once(answer):
    note = _check(answer)
    assert note and "selects nothing" in note and "first 500 characters" in note
    assert "submit the same answer again" in note


def test_an_answer_copied_from_the_last_error_is_refused():
    hint = AnswerCheck()
    hint.reset(RunStart("Which recipe has the most protein?"))
    output = ("Cell In[1], line 3\n----> 3 best = max(recipes, key=lambda r: "
              "nutrients(r)['protein'])\nKeyError: \"unknown ingredient 'lentil soup'\"")
    hint.after_action(Step(1, "code", output, False), Verdict())
    note = hint.checks_answer("lentil soup")
    assert note and "copied from its error message" in note
    # the traceback's code lines are not the error message; a success clears it
    assert hint.checks_answer("protein") is None
    hint.after_action(Step(2, "code", "lentil soup", True), Verdict())
    assert hint.checks_answer("lentil soup") is None
    # a value an earlier output showed is not a copy, even when the error repeats it
    hint.after_action(Step(3, "code", "NameError: name 'lentil soup' is not defined", False),
                      Verdict())
    assert hint.checks_answer("lentil soup") is None


def test_a_collection_where_the_task_asks_for_one_quantity_is_refused():
    """Seen at temperature 0.7: the list of the first 100 primes submitted for the sum
    of their squares."""
    note = _check(str(list(range(2, 102))), "What is the sum of the squares of the first "
                  "100 prime numbers?")
    assert note and "asks for one value" in note and "collection of 100 items" in note
    assert _check("[3, 4]", "How many rooms are free?")
    # a task that asks for several things, or one value given as one
    assert _check("{'a': 1, 'b': 2}", "What is the total per city?") is None
    assert _check("['A', 'B']", "Which symbols cost more than 50? Answer with the list.") \
        is None
    assert _check("{'a': 1.5, 'b': 2.0}", "What is the average price for each city?") is None
    assert _check("[42]", "What is the sum of the first 3 odd numbers?") is None
    assert _check("8384727", "What is the sum of the squares of the first 100 primes?") \
        is None


def test_an_error_message_is_refused_firmly_even_when_copied_from_the_last_error():
    """Seen: `<solution>TypeError: prime() missing 1 required positional argument</solution>`
    right after that error stood, because the copied-text note was not a firm one."""
    from codeact.agent.hints.base import FirmNote

    hint = AnswerCheck()
    hint.reset(RunStart("Sum the first 100 primes."))
    error = "TypeError: prime() missing 1 required positional argument: 'nth'"
    hint.after_action(Step(1, "sympy.prime()", f"Cell In[1]\n{error}", False), Verdict())
    assert isinstance(hint.checks_answer(error), FirmNote)


def test_a_sentence_copied_from_any_error_of_the_run_is_refused_firmly():
    """Seen: "Failed to resolve 'en.wikipedia.org'" (from a ConnectionError two cells
    back) refused once for being unseen, sent again, and kept."""
    from codeact.agent.hints.base import FirmNote

    hint = AnswerCheck()
    hint.reset(RunStart("What is the combined population of all towns linked from 'wiki/towns'?"))
    error = ("ConnectionError: HTTPSConnectionPool(host='en.wikipedia.org', port=443): Max "
             "retries exceeded (Caused by NameResolutionError(\"Failed to resolve "
             "'en.wikipedia.org'\"))")
    hint.after_action(Step(1, "requests.get(url)", f"Cell In[1]\n{error}", False), Verdict())
    hint.after_action(Step(2, "print(1)", "1", True), Verdict())
    assert isinstance(hint.checks_answer("Failed to resolve 'en.wikipedia.org"), FirmNote)
    # a short name from an error is asked about once (it may be a real item), and only
    # right after that error
    hint.after_action(Step(3, "nutrients('lentil soup')",
                           "KeyError: \"unknown ingredient 'lentil soup'\"", False), Verdict())
    note = hint.checks_answer("lentil soup")
    assert note is not None and not isinstance(note, FirmNote)


def test_a_found_nothing_sentence_for_a_quantity_is_refused_firmly():
    """Seen: "No founding years found." for "the average founding year", resent after the
    note's "If nothing really matches, submit the same answer again"."""
    from codeact.agent.hints.base import FirmNote

    note = _check("No founding years found.", "What is the average founding year, rounded?")
    assert isinstance(note, FirmNote) and "same answer again" not in note
    note = _check("No dates found that meet the criteria.", "Which dates are free?")
    assert note is not None and not isinstance(note, FirmNote)


@pytest.mark.parametrize(("answer", "never"), [
    ("", True), ("None", True), ("nan", True), ("[]", True), ("{}", True),
    ("KeyError: 'x'", True), ("No dates found that meet the criteria.", True),
    ("0", False), ("False", False), ("paint", False), ("not found", False),
    ("[1, 2]", False), ("The Hound of the Baskervilles", False),
    ("Executed successfully with no output.", True), ("[Output was truncated.]", True),
    ("Execution timed out after 30 s and was interrupted.", True),
    ("Executed successfully", False), ("no output", False),
])
def test_what_cannot_be_an_answer_whatever_the_task(answer, never):
    from codeact.agent.hints.answer_check import cannot_be_an_answer

    assert cannot_be_an_answer(answer) is never


@pytest.mark.parametrize("answer", ["Executed successfully with no output.",
                                    "[Executed successfully with no output.]",
                                    "'executed successfully with no output'",
                                    "Output was truncated.",
                                    "[Execution timed out after 30 s and was interrupted.]"])
def test_codeacts_own_placeholder_is_refused_firmly(answer):
    note = _check(answer, "Which team is top of the table?")
    assert isinstance(note, FirmNote) and "how a cell ran" in note


def test_the_loop_refuses_the_placeholder_copied_from_its_observation(session):
    # seen (0.5B student, league/leader): a cell that printed nothing, then
    # final_answer('Executed successfully with no output.') ended the run "solved"
    replies = iter(["<execute>top = 'Athletic'</execute>",
                    "<execute>final_answer('Executed successfully with no output.')</execute>",
                    "<execute>print(top)\nfinal_answer(top)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 resample=0).run("Which team is top of the table?")
    assert "[Executed successfully with no output.]" in traj.turns[0].observation
    assert "how a cell ran" in traj.turns[1].observation
    assert traj.answer == "Athletic" and traj.stop_reason != "max_turns"


def test_an_answer_that_cannot_be_one_is_never_kept_when_the_run_ends(session):
    replies = iter(["<execute>x = None\nfinal_answer(x)</execute>"] +
                   ["<execute>print(nope)</execute>"] * 3)
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=3,
                 resample=0).run("Find it.")
    assert traj.answer is None and traj.stop_reason == "max_turns"
    assert "fallback_answer" not in traj.metadata


def test_an_answer_refused_on_evidence_is_not_kept_when_the_run_ends(session):
    sentence = "The run-length encoded string is '3a4b2c6d1e'."
    replies = iter([f"<execute>print(1)\nfinal_answer({sentence!r})</execute>"] +
                   [f"<execute>print(nope{i})</execute>" for i in range(3)])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=3,
                 resample=0).run("Encode it.")
    assert "sentence around the value" in traj.turns[0].observation
    assert traj.answer is None and traj.stop_reason == "max_turns"


def test_an_answer_made_of_the_notes_words_is_refused_firmly():
    """Seen: "The condition or loop used was never true, or a loop went over nothing."
    submitted right after the silent-print note that said so."""
    from codeact.agent.hints.answer_check import copies_notes

    note = ("Note: your cell calls print() but printed nothing, so the code that prints "
            "never ran: a condition around it was never true, or a loop went over nothing.")
    reworded = "The condition or loop used was never true, or a loop went over nothing."
    assert copies_notes(reworded, [note], ["Which book is the oldest?"])
    assert not copies_notes("The Hound of the Baskervilles", [note], [])
    assert not copies_notes("loop went over nothing", [note], [])  # too short to judge
    # words an output showed too were not taken from the note
    assert not copies_notes(reworded, [note], [reworded])
    hint = AnswerCheck()
    hint.reset(RunStart("Which mystery book is the oldest?"))
    hint.shown_notes([note])
    said = hint.checks_answer(reworded)
    assert isinstance(said, FirmNote) and "repeats codeact's notes" in said
    # the kernel's note under an error is not the error line, and is no result either
    failed = Step(1, "pd.read_csv('books.csv')", "FileNotFoundError: [Errno 2] No such file "
                  "or directory: 'books.csv'\nthe working directory has no files. The task's "
                  "data comes from your tools, already defined: search.", False)
    hint.after_action(failed, Verdict())
    assert isinstance(hint.checks_answer("The working directory has no files."), FirmNote)
    # words of the model's own code, quoted back by a traceback, are not the notes' words
    typed = Step(2, "title = 'The Hound of the Baskervilles'\nfind(title)", "Traceback\n"
                 "----> 1 title = 'The Hound of the Baskervilles'\nNameError: find", False)
    hint.after_action(typed, Verdict())
    assert hint.checks_answer("The Hound of the Baskervilles") is None
    hint.reset(RunStart("Which mystery book is the oldest?"))  # a new run forgets them
    assert hint.checks_answer(reworded) is None
    # a note that quotes the answer back is not where the answer came from (seen: the
    # unseen-answer note's "Your answer: M661 has no books on loan afterwards.")
    answer = "M661 has no books on loan afterwards."
    hint.shown_notes([f"No cell has shown the value you submitted.\nYour answer: {answer}\n"
                      "Is this exactly what the task asks for?"])
    assert hint.checks_answer(answer) is None
    hint.reset(RunStart("Which mystery book is the oldest?"))
    assert hint.checks_answer(reworded) is None


def test_the_loop_shows_its_notes_to_the_hints(session):
    replies = iter(["<execute>for x in []:\n    print(x)</execute>",
                    '<execute>final_answer("The condition or loop used was never true, or a '
                    'loop went over nothing.")</execute>',
                    "<execute>n = 3\nprint(n)\nfinal_answer(n)</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session).run("How many?")
    assert "repeats codeact's notes or an error" in traj.turns[1].observation
    assert traj.answer == "3"


@pytest.mark.parametrize("answer,kind,size", [
    ("0    granite ltd\nName: name, dtype: str", "Series", 1),
    ("3      8572.68\n11     9525.20\n12     5715.12\nName: units, dtype: float64",
     "Series", 3),
    ("0      0\n1      1\n      ..\n99    99\nName: x, Length: 100, dtype: int64", "Series",
     100),
    ("0   2023-01-01\n1   2023-01-02\ndtype: datetime64[us]", "Series", 2),
    ("     a   b\n0    0   0\n..  ..  ..\n99  99  99\n\n[100 rows x 2 columns]", "DataFrame",
     100),
])
def test_a_pandas_object_as_printed_is_known(answer, kind, size):
    assert pandas_display(answer) == (kind, size)


@pytest.mark.parametrize("answer", ["14925.07", "dtype: float64", "['a', 'b']",
                                    "The dtype: float64 column", "a\nb\nc"])
def test_values_are_not_taken_for_a_pandas_object(answer):
    assert pandas_display(answer) is None


def test_a_pandas_series_submitted_as_printed_is_refused_once():
    """Seen in issue 25's collections: six runs, all failed, submitted a Series as pandas
    prints it, for "the total revenue" (14 order revenues) or "which customer" (one)."""
    note = _check("3      8572.68\n11     9525.20\nName: units, dtype: float64",
                  "What is the total revenue of the South region, rounded to 2 decimals?")
    assert note and "pandas Series of 2 values" in note and ".sum()" in note
    assert isinstance(note, FirmNote)  # no task wants it: refused each time
    one = _check("0    granite ltd\nName: name, dtype: str", "Which customer spent most?")
    assert one and "`series.iloc[0]`" in one
    hint = AnswerCheck()
    hint.reset(RunStart("Show me the sales by region.", chat=True))
    assert hint.checks_answer("0    12\n1    30\ndtype: int64") is None  # a person reads it


def test_the_loop_asks_for_the_value_of_a_series_in_a_real_kernel(session):
    """Seen: the same cell resent after the note; a Series is refused again, so the
    resend does not stand."""
    send = ("<execute>import pandas as pd\ns = pd.Series([2.5, 4.0], name='units')\n"
            "final_answer(s * 2)</execute>")
    replies = iter([send, send, "<execute>print((s * 2).sum())\nfinal_answer((s * 2).sum())"
                    "</execute>"])
    traj = Agent(ScriptedLLM(lambda m: next(replies)), session=session,
                 resample=0).run("What is the total of the doubled units?")
    assert "pandas Series of 2 values" in traj.turns[0].observation
    assert "pandas Series of 2 values" in traj.turns[1].observation
    assert traj.stop_reason == "solution" and traj.answer == "13.0"
