"""ContextBudget: the model's view always fits, the system prompt and task never change."""

from codeact.agent.history import DROPPED_NOTE, ContextBudget, shorten
from codeact.llm.base import estimate_tokens


def _conversation(turns: int, obs_chars: int = 3000, code_chars: int = 200) -> list[dict]:
    msgs = [{"role": "system", "content": "SYSTEM " * 50},
            {"role": "user", "content": "TASK: add the numbers"}]
    for t in range(turns):
        msgs.append({"role": "assistant", "content": f"<execute>{t}" + "x" * code_chars
                     + "</execute>"})
        msgs.append({"role": "user", "content": f"Observation:\nturn {t} " + "o" * obs_chars})
    return msgs


def test_fits_untouched_when_small():
    msgs = _conversation(2, obs_chars=100)
    budget = ContextBudget(10_000)
    assert budget.view(msgs) == msgs


def test_old_observations_shortened_first_newest_kept():
    msgs = _conversation(8)
    total = estimate_tokens(msgs)
    budget = ContextBudget(total // 2)
    view = budget.view(msgs)
    assert estimate_tokens(view) <= total // 2
    assert view[0] == msgs[0] and view[1] == msgs[1]  # system prompt and task untouched
    assert view[-1] == msgs[-1] and view[-3] == msgs[-3]  # newest observations whole
    assert "removed to fit the context window" in view[3]["content"]
    assert view[3]["content"].startswith("Observation:\nturn 0")
    assert all(v["role"] == m["role"] for v, m in zip(view, msgs, strict=True))


def test_shortening_is_stable_so_the_prefix_stays_cached():
    msgs = _conversation(8)
    budget = ContextBudget(estimate_tokens(msgs) // 2)
    first = budget.view(msgs)
    msgs += [{"role": "assistant", "content": "<execute>print(1)</execute>"},
             {"role": "user", "content": "Observation:\n1"}]
    second = budget.view(msgs)
    # what was shortened before is shortened the same way: the old view is a prefix
    # except for messages that newly left the protected tail
    same = sum(1 for a, b in zip(first, second, strict=False) if a == b)
    assert same >= len(first) - 2


def test_replies_shortened_when_observations_are_not_enough():
    msgs = _conversation(6, obs_chars=50, code_chars=4000)
    budget = ContextBudget(estimate_tokens(msgs) // 2)
    view = budget.view(msgs)
    assert estimate_tokens(view) <= estimate_tokens(msgs) // 2
    assert "older reply removed" in view[2]["content"]


def test_drops_oldest_turns_as_a_last_resort_and_says_so():
    msgs = _conversation(30, obs_chars=700, code_chars=700)
    budget = ContextBudget(1200)
    view = budget.view(msgs)
    assert estimate_tokens(view) <= 1200
    assert view[0] == msgs[0] and view[1] == msgs[1]
    assert view[2]["content"] == DROPPED_NOTE
    assert view[-1]["content"].startswith("Observation:\nturn 29")


def test_a_single_huge_newest_observation_is_cut_to_fit():
    msgs = _conversation(1, obs_chars=200_000)
    budget = ContextBudget(3000)
    view = budget.view(msgs)
    assert estimate_tokens(view) <= 3000
    assert view[1] == msgs[1]


def test_shorten_keeps_head_and_tail():
    text = "A" * 1000 + "B" * 1000
    out = shorten(text, keep=100, what="observation")
    assert out.startswith("A" * 100) and out.endswith("B" * 100)
    assert "1,800 characters" in out
    assert shorten("short") == "short"


def test_a_run_of_identical_exchanges_shows_once_with_its_count():
    from codeact.agent.history import collapse_repeats
    from codeact.agent.observe import NOTES_HEADING

    def exchange(reply: str, output: str, note: str | None = None) -> list[dict]:
        obs = f"Observation:\n{output}" + (f"\n\n{NOTES_HEADING}\n{note}" if note else "")
        return [{"role": "assistant", "content": reply}, {"role": "user", "content": obs}]

    err = "Cell In[{}], line 1\nNameError: name 'x' is not defined"
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"},
            *exchange("<execute>f(x)", err.format(1)),
            *exchange("<execute>f(x)", err.format(2), "Note: second time."),
            *exchange("<execute>f(x)", err.format(3), "Note: third time."),
            *exchange("<execute>x = 1", "")]
    view = collapse_repeats(msgs)
    assert [m["content"] for m in view[:2]] == ["s", "task"]
    assert sum(m["content"] == "<execute>f(x)" for m in view) == 1
    kept = view[3]["content"]
    assert kept.startswith("Observation:\nCell In[3]")  # the last of the run
    assert kept.endswith(f"{NOTES_HEADING}\nThis same reply was sent 3 times in a row and "
                         "gave this same output each time; only the last is shown.\n"
                         "Note: third time.")
    assert view[4:] == msgs[-2:] and len(msgs) == 10 and len(view) == 6
    # different outputs are different exchanges: nothing collapses
    other = msgs[:2] + exchange("<execute>f(x)", "1") + exchange("<execute>f(x)", "2")
    assert collapse_repeats(other) == other


def test_a_note_goes_to_the_last_observation_of_the_view_only():
    from codeact.agent.history import with_note
    from codeact.agent.observe import NOTES_HEADING

    msgs = [{"role": "user", "content": "task"}, {"role": "assistant", "content": "a"},
            {"role": "user", "content": "Observation:\n42"}]
    view = with_note(msgs, "Note: try again.")
    assert view[-1]["content"] == f"Observation:\n42\n\n{NOTES_HEADING}\nNote: try again."
    assert msgs[-1]["content"] == "Observation:\n42" and view[:-1] == msgs[:-1]
    noted = [*msgs[:-1], {"role": "user", "content": f"Observation:\n42\n\n{NOTES_HEADING}\nA."}]
    assert with_note(noted, "B.")[-1]["content"].endswith(f"{NOTES_HEADING}\nA.\nB.")
    assert with_note(msgs[:1], "C.")[-1]["content"] == f"Observation:\n{NOTES_HEADING}\nC."


def test_a_repeated_action_leaves_the_view_with_its_observations():
    from codeact.agent.history import without_action

    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "task f(x)"},
            {"role": "assistant", "content": "<execute>f(x)"},
            {"role": "user", "content": "Observation:\nKeyError"},
            {"role": "assistant", "content": "<execute>list_all()"},
            {"role": "user", "content": "Observation:\n[1, 2]"}]
    assert without_action(msgs, "f(x)") == msgs[:2] + msgs[4:]  # the task stays
    assert without_action(msgs, "list_all()") == msgs[:4]
    assert without_action(msgs, "g()") == msgs


def test_without_the_heading_repeats_collapse_despite_the_turns_left_line():
    from codeact.agent.history import collapse_repeats, with_note
    from codeact.agent.observe import NOTES_HEADING

    msgs = [{"role": "user", "content": "task"}]
    for left in (9, 8):
        msgs += [{"role": "assistant", "content": "<execute>f(x)"},
                 {"role": "user", "content": f"Observation:\nNameError\n\nYou have {left} "
                                             "turns left."}]
    view = collapse_repeats(msgs, heading=False)
    assert len(view) == 3 and NOTES_HEADING not in view[-1]["content"]
    assert view[-1]["content"].endswith("You have 8 turns left.\nThis same reply was sent 2 "
                                        "times in a row and gave this same output each "
                                        "time; only the last is shown.")
    assert with_note(msgs, "Note: B.", heading=False)[-1]["content"].endswith(
        "You have 8 turns left.\nNote: B.")
    assert with_note(msgs[:1], "C.", heading=False)[-1]["content"] == "Observation:\nC."
