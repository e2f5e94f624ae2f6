"""Verdict: how the advice of several hints on one step adds up; every_statement."""

from codeact.agent.hints.base import Advice, Verdict


def test_notes_keep_their_order_and_flags_accumulate():
    verdict = Verdict()
    verdict.add(Advice(note="first"))
    verdict.add(Advice(note="second", repeat=True))
    verdict.add(Advice())
    assert verdict.notes == ["first", "second"] and verdict.repeat and not verdict.stuck
    verdict.add(Advice(stuck=True))
    assert verdict.stuck


def test_the_first_submission_wins_and_its_note_waits_for_the_answer():
    verdict = Verdict()
    verdict.add(Advice(note="submitted f", submit="final_answer(f)"))
    verdict.add(Advice(note="submitted g", submit="final_answer(g)"))
    assert verdict.submit == "final_answer(f)" and verdict.submit_note == "submitted f"
    assert verdict.notes == []  # said only when the submission gave an answer


def test_every_statement_judges_a_cell_line_by_line():
    import ast

    from codeact.agent.hints.base import every_statement

    def is_pass(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.Pass)

    assert every_statement("pass\npass", is_pass)
    assert not every_statement("pass\nx = 1", is_pass)
    assert not every_statement("", is_pass)  # no statements: nothing to judge
    assert not every_statement("pass(", is_pass)  # a syntax error
