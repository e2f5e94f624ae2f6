"""Benchmark harness: suites of tasks, a runner over the Agent, results and reports.

>>> from codeact.bench import Task, load_suite, run_suite, RunConfig
"""

from codeact.bench.check import answers_match
from codeact.bench.results import ResultsWriter, load_results
from codeact.bench.run_one import RunConfig, run_task
from codeact.bench.runner import run_suite
from codeact.bench.suites import SuiteError, load_suite, select
from codeact.bench.task import CheckContext, CheckResult, Task, ToolContext

__all__ = [
    "CheckContext",
    "CheckResult",
    "ResultsWriter",
    "RunConfig",
    "SuiteError",
    "Task",
    "ToolContext",
    "answers_match",
    "load_results",
    "load_suite",
    "run_suite",
    "run_task",
    "select",
]
