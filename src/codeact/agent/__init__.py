"""The agent core: the CodeAct loop in small steps and what steers it.

``loop`` drives a run (generate, parse, act, observe, record); ``generate`` streams the
model's reply; ``act`` runs an action; ``hints`` holds the small-model heuristics behind
one protocol; ``history`` keeps a conversation inside the context window; ``observe``
renders an execution result as the text the model reads; ``executor`` is the seam to a
runtime.
"""

from __future__ import annotations

from codeact.agent.executor import Executor, SandboxFailure
from codeact.agent.loop import ABLATIONS, Agent, Approval, check_ablations

__all__ = ["ABLATIONS", "Agent", "Approval", "Executor", "SandboxFailure", "check_ablations"]
