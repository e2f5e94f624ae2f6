"""Run one task in one action format through the Agent and grade it: one result record.

The bottom layer of the benchmark runner, imported by both the local runner
(:mod:`codeact.bench.runner`) and the Ray backend (:mod:`codeact.bench.ray_backend`), so
neither imports the other to reach it. It knows nothing about pools, progress or files.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from codeact.actions import format_names, prompt_for
from codeact.bench.task import CheckContext, CheckResult, Task, ToolContext, to_jsonable
from codeact.llm.base import LLM
from codeact.trajectory import ActionKind

__all__ = ["RunConfig", "prompt_fields", "run_task"]


@dataclass
class RunConfig:
    """Options of a benchmark run (everything but the tasks and the model)."""

    formats: list[str] = field(default_factory=lambda: ["code"])
    max_turns: int = 10
    workers: int = 1
    sandbox: Any = "bwrap"
    exec_timeout: float = 30.0
    task_timeout: float | None = 600.0  # wall-clock limit per run; None: no limit
    max_new_tokens: int = 1024
    temperature: float = 0.0
    suite: str = "builtin"
    keep_trajectory: bool = True
    prompt: str | None = None  # code-format prompt variant or file (None: default)
    context_window: int | None = None  # None: what the backend knows
    resample: int = 2  # tries to replace a reply that repeats an earlier action
    hints: list[str] | None = None  # the agent hints to use (None: all)
    samples: int = 1  # self-consistency: independent runs per task, majority answer
    sample_temperature: float = 0.7
    sample_all: bool = False  # all K runs even once the vote is decided
    ablate: list[str] = field(default_factory=list)  # agent mechanisms switched off

    def __post_init__(self) -> None:
        known = format_names()
        bad = [f for f in self.formats if f not in known]
        if bad or not self.formats:
            raise ValueError(f"unknown action format(s) {bad}; choose from {', '.join(known)}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        from codeact.agent.loop import check_ablations

        self.ablate = sorted(check_ablations(self.ablate))

    def variant(self) -> list[str]:
        """What this run changes in the agent, as results record it (part of their key):
        the ablations, ``no_hint:NAME`` for a default hint switched off and
        ``+hint:NAME`` for an optional one switched on; empty for the default agent."""
        from codeact.agent.hints import default_hint_names

        changes = list(self.ablate)
        if self.hints is not None:
            defaults = default_hint_names()
            changes += [f"no_hint:{h}" for h in defaults if h not in self.hints]
            changes += [f"+hint:{h}" for h in self.hints if h not in defaults]
        return sorted(changes)


def prompt_fields(cfg: RunConfig, action_format: str) -> dict[str, str]:
    """The prompt a run of this format uses: its variant name and hash (the results key
    includes the hash, so two prompts can share a results file)."""
    prompt = prompt_for(action_format, cfg.prompt)
    return {"prompt": prompt.name, "prompt_sha": prompt.sha}


def _solve(agent: Any, task: Task, cfg: RunConfig) -> Any:
    """One run, or with ``cfg.samples`` > 1 the voted trajectory of that many runs; a chat
    task sends its follow-up messages in the same conversation, and its last trajectory
    carries the earlier ones in ``metadata["conversation"]``."""
    instruction = task.instruction_for(agent.format.name)
    follow_ups = list(task.metadata.get("follow_ups", ())) if agent.chat else []
    if follow_ups:
        earlier = [agent.run(instruction).to_dict()]
        for message in follow_ups[:-1]:
            earlier.append(agent.run(message).to_dict())
        traj = agent.run(follow_ups[-1])
        traj.metadata["conversation"] = earlier
        return traj
    if cfg.samples <= 1:
        return agent.run(instruction)
    from codeact.agent.consistency import stream_samples
    from codeact.events import DoneEvent

    done = [e for e in stream_samples(agent, instruction, cfg.samples,
                                      temperature=cfg.sample_temperature,
                                      all_runs=cfg.sample_all)
            if isinstance(e, DoneEvent)]
    return done[-1].trajectory


def run_task(task: Task, action_format: str, llm: LLM, cfg: RunConfig) -> dict[str, Any]:
    """Run one task in one format and grade it; never raises (crashes become records)."""
    from codeact.agent import Agent

    started = time.time()
    t0 = time.monotonic()
    base = {
        "suite": cfg.suite,
        "task": task.name,
        "domain": task.domain,
        "format": action_format,
        "model": getattr(llm, "name", type(llm).__name__),
        "expected": task.expected_json(),
        **prompt_fields(cfg, action_format),
        # part of the results key: an ablated run never stands for a normal one
        "ablate": cfg.variant(),
    }
    if task.metadata:
        base["task_metadata"] = to_jsonable(task.metadata)
    agent = None
    timer = None
    workspace = None
    timed_out = threading.Event()
    try:
        tools = task.make_tools(ToolContext(action_format=action_format, sandbox=cfg.sandbox))
        if task.files is not None:  # the task's files go into the workspace before the run
            workspace = tempfile.mkdtemp(prefix="codeact-task-")
            task.write_files(workspace)
        agent = Agent(llm, tools, action_format=action_format, sandbox=cfg.sandbox,
                      workspace=workspace,
                      max_turns=cfg.max_turns, time_limit=cfg.task_timeout,
                      exec_timeout=cfg.exec_timeout, max_new_tokens=cfg.max_new_tokens,
                      temperature=cfg.temperature, prompt=cfg.prompt if
                      action_format == "code" else None, context_window=cfg.context_window,
                      resample=cfg.resample, hints=cfg.hints, ablate=cfg.ablate,
                      chat=bool(task.metadata.get("chat")),
                      # copies of one task (collection samples) draw with their own seeds
                      seed=int(task.metadata.get("agent_seed") or 0))
        if cfg.task_timeout:
            def on_timeout() -> None:
                timed_out.set()
                agent.interrupt()

            timer = threading.Timer(cfg.task_timeout, on_timeout)
            timer.daemon = True
            timer.start()
        traj = _solve(agent, task, cfg)
        if timer is not None:
            timer.cancel()
        stop = traj.stop_reason
        is_timeout = timed_out.is_set() or stop == "time_limit"
        if stop == "solution" or (stop == "no_action" and agent.chat):
            check = task.check(traj.answer, CheckContext(
                task=task, expected=task.expected, sandbox=cfg.sandbox, trajectory=traj,
                exec_timeout=cfg.exec_timeout))
        else:
            check = CheckResult(False, 0.0, "timed out" if is_timeout else f"no answer ({stop})")
        record = {
            **base,
            "status": "error" if stop == "error" else "done",
            "success": bool(check.success),
            "score": check.score,
            "answer": traj.answer,
            "check_detail": check.detail,
            "turns": len(traj.turns),
            "prompt_tokens": traj.prompt_tokens,
            "completion_tokens": traj.completion_tokens,
            "total_tokens": traj.total_tokens,
            "wall_seconds": round(time.monotonic() - t0, 3),
            "stop_reason": "timeout" if timed_out.is_set() else stop,
            "timed_out": is_timeout,
            "error": traj.error,
            "started_at": started,
            "finished_at": time.time(),
            "trajectory": traj.to_dict() if cfg.keep_trajectory else None,
            "resample": cfg.resample,
            "resampled_turns": sum(1 for t in traj.turns if t.resampled),
            # the answer came from the agent (a hint submitted the function the task asked
            # for when the run would have stopped stuck), not from the model's own call
            "submitted_by_agent": any(t.action == ActionKind.CODE_AUTO_FINAL_ANSWER
                                      for t in traj.turns),
            # the run ended without an answer after one was refused as a possible guess:
            # that answer was kept (Agent._fall_back)
            "fallback_answer": "fallback_answer" in traj.metadata,
        }
        if cfg.samples > 1:
            vote = traj.metadata["samples"]
            record.update(samples=vote["k"], sample_runs=vote["ran"],
                          agreement=vote["agreement"],
                          sample_answers=vote["answers"])
        if stop == "error" and traj.error:
            record["check_detail"] = traj.error
        return record
    except Exception as exc:
        return {
            **base,
            "status": "crashed",
            "success": False,
            "score": 0.0,
            "answer": None,
            "check_detail": "",
            "turns": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "wall_seconds": round(time.monotonic() - t0, 3),
            "stop_reason": "crashed",
            "timed_out": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "started_at": started,
            "finished_at": time.time(),
            "trajectory": None,
        }
    finally:
        if timer is not None:
            timer.cancel()
        if agent is not None:
            try:
                agent.close()
            except Exception:
                pass
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)
