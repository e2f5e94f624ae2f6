"""Comparisons between values of two types: found in a cell, judged in a real kernel."""

from codeact.agent import Agent, Approval
from codeact.agent.hints import default_hint_names
from codeact.agent.hints.base import RunStart, Step, Verdict
from codeact.agent.hints.type_mismatch import TypeMismatch, find_checks, probe_code
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime.observation import Observation

COMMITTEES = """from itertools import combinations
all_combinations = list(combinations(range(10), 5))
valid = [comb for comb in all_combinations if 'Ana' not in comb and 'Ben' not in comb]
print(len(valid))"""

ORDERS = """import pandas as pd
orders = pd.DataFrame({'customer': ['c1', 'c2', 'c1'], 'total': [3.0, 4.0, 5.0]})
customers = [{'id': 'c1', 'tier': 'bronze'}, {'id': 'c2', 'tier': 'gold'}]
bronze = [c for c in customers if c['tier'] == 'bronze']
picked = orders[orders['customer'].isin(bronze)]
cheap = orders[orders['total'] == '3.0']
print(len(picked), len(cheap))"""

FINE = """import pandas as pd
orders = pd.DataFrame({'customer': ['c1', 'c2'], 'paid': [True, False],
                       'day': pd.to_datetime(['2023-01-01', '2023-01-02'])})
ids = [c['id'] for c in [{'id': 'c1'}]]
a = orders[orders['customer'].isin(ids)]
b = orders[orders['paid'] == True]
c = orders[orders['day'] == '2023-01-01']
words = ['apple', 'kiwi']
d = [w for w in words if 'a' in w and w != 'kiwi']
e = [k for k, v in {'x': 1}.items() if k == 'x']
def local(rows):
    return [r for r in rows if 'Ana' in r]
print(len(a), len(b), len(c), d, e)"""


def test_the_comparisons_a_probe_can_judge_are_found():
    assert [c.text for c in find_checks(COMMITTEES)] == ["'Ana' not in comb",
                                                         "'Ben' not in comb"]
    assert [(c.text, c.kind) for c in find_checks(ORDERS)] == [
        ("c['tier'] == 'bronze'", "items"), ("orders['customer'].isin(bronze)", "isin"),
        ("orders['total'] == '3.0'", "column")]
    assert "'Ana' in r" not in [c.text for c in find_checks(FINE)]  # inside a function
    assert find_checks("x = (") == []


TASK = "Ana and Ben refuse to serve together: how many committees of 5 of 10?"


def judge(session, code: str, task: str = TASK) -> TypeMismatch:
    hint = TypeMismatch()
    hint.reset(RunStart(task=task))
    obs = session.execute(code)
    assert obs.ok, obs.stdout
    step = Step(1, code, obs.stdout, True, obs)
    cell = hint.probe(step)
    if cell is not None:
        hint.read_probe(step, session.execute(cell, timeout=10))
    return hint


def test_a_condition_between_two_types_is_named_with_its_types(session):
    advice = judge(session, COMMITTEES).after_action(Step(1, COMMITTEES, "", True,
                                                          Observation()), Verdict())
    assert advice is not None and advice.problem
    assert ("`'Ana' not in comb` is always true here (it rules nothing out): the items of "
            "`comb` are int, never str") in advice.note
    note = judge(session, ORDERS).after_action(Step(1, ORDERS, "", True, Observation()),
                                               Verdict()).note
    assert ("`orders['customer'].isin(bronze)` is never true here: column `customer` of "
            "`orders` holds str values and `bronze` holds dict values") in note
    assert "`orders['total'] == '3.0'` is never true here" in note
    assert "c['tier']" not in note  # str against str
    assert "__codeact_types" not in session.execute("print(dir())").stdout


def test_comparisons_of_one_type_and_date_columns_say_nothing(session):
    hint = judge(session, FINE)
    assert hint.after_action(Step(1, FINE, "", True, Observation()), Verdict()) is None


def test_an_always_true_guard_matters_only_for_a_value_the_task_names(session):
    """`x != ''` over numbers rules nothing out and is harmless; `'Ana' not in comb` is
    about someone the task names."""
    guard = "nums = [3, 4]\nkept = [x for x in nums if x != '' and x != 'N/A']"
    assert judge(session, guard).after_action(Step(1, guard, "", True, Observation()),
                                              Verdict()) is None
    note = judge(session, guard, task="Skip the N/A values.").after_action(
        Step(1, guard, "", True, Observation()), Verdict()).note
    assert "`x != 'N/A'` is always true here" in note and "x != ''" not in note
    assert judge(session, COMMITTEES, task="How many committees?").after_action(
        Step(1, COMMITTEES, "", True, Observation()), Verdict()) is None
    never = "nums = [3, 4]\nkept = [x for x in nums if x == '3']"
    assert "never true" in judge(session, never, task="t").after_action(
        Step(1, never, "", True, Observation()), Verdict()).note


def test_the_probe_fails_quietly_on_what_it_cannot_read(session):
    checks = find_checks("picked = gone[gone['a'] == 1]\nx = [v for v in missing if v == 'a']")
    obs = session.execute(probe_code(checks), timeout=10)
    assert obs.ok and obs.stdout.strip() == "__codeact_types__[]"


def reply(code: str) -> str:
    return f"<execute>\n{code}\n</execute>"


def test_agent_tells_the_model_once_and_refuses_an_answer_from_such_a_cell(session):
    replies = iter([reply(COMMITTEES), reply(COMMITTEES.replace("print(len(valid))",
                                                                "final_answer(len(valid))")),
                    reply("valid = [c for c in all_combinations if not (0 in c and 1 in c)]\n"
                          "print(len(valid))\nfinal_answer(len(valid))")])
    traj = Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                 max_turns=5).run("How many committees of 5 of 10 avoid Ana and Ben together?")
    first = traj.turns[0].observation or ""
    assert first.startswith("252") and "`'Ana' not in comb` is always true here" in first
    assert "Your answer 252 comes from a cell where `'Ana' not in comb`" in \
        (traj.turns[1].observation or "")
    assert traj.answer == "196" and len(traj.turns) == 3
    submit = reply(COMMITTEES.replace("print(len(valid))", "final_answer(len(valid))"))
    replies = iter([submit, submit])  # refused once; the same answer again stands
    traj = Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                 max_turns=5).run(TASK)
    assert "always true here" in (traj.turns[0].observation or "")
    assert traj.answer == "252" and len(traj.turns) == 2


def test_agent_without_the_hint_or_with_a_person_approving_runs_no_probe(session):
    def run(**kwargs):
        replies = iter([reply(COMMITTEES), reply("final_answer(252)")])
        return Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                     max_turns=5, **kwargs).run(TASK)

    off = [name for name in default_hint_names() if name != "type_mismatch"]
    for traj in (run(hints=off), run(approve=lambda code: Approval())):
        assert "always true here" not in (traj.turns[0].observation or "")
        assert traj.answer == "252"


def test_the_value_such_a_cell_printed_is_refused_when_sent_next(session):
    """Seen (a collection sample replayed): the note read, then `final_answer(252)`."""
    replies = iter([reply(COMMITTEES), reply("final_answer(252)"),
                    reply("final_answer(252)")])
    traj = Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                 max_turns=5).run(TASK)
    second = traj.turns[1].observation or ""
    assert "Your answer 252 comes from a cell where `'Ana' not in comb`" in second
    assert "Fix that comparison" in second
    assert traj.answer == "252" and len(traj.turns) == 3  # a resend stands
    replies = iter([reply(COMMITTEES), reply("final_answer(2520)")])
    traj = Agent(ScriptedLLM(lambda messages: next(replies)), session=session,
                 max_turns=5).run(TASK)
    assert "comes from a cell" not in (traj.turns[1].observation or "")  # not its value


def test_the_probe_runs_none_of_the_models_code(session):
    """A property, an __iter__ or a keys() the model wrote is never called by the probe."""
    code = """class Box:
    @property
    def rows(self):
        print('PROPERTY RAN')
        return [1, 2]
class Sneaky(list):
    def __iter__(self):
        print('ITER RAN')
        return super().__iter__()
class Keys(dict):
    def keys(self):
        print('KEYS RAN')
        return super().keys()
box, sneaky, keyed = Box(), Sneaky([1, 2]), Keys(a=1)"""
    assert session.execute(code).ok
    checks = find_checks("a = [x for x in box.rows if x == 'a']\n"
                         "b = [x for x in sneaky if x == 'a']\n"
                         "c = [k for k in keyed if k == 1]\n"
                         "d = [k for k, v in keyed.items() if k == 1]")
    assert len(checks) == 4
    obs = session.execute(probe_code(checks), timeout=10)
    assert obs.ok and "RAN" not in obs.stdout
    # only the plain dict view of `keyed` was read: its str keys against 1
    assert obs.stdout.strip().startswith("__codeact_types__[[2,")
