"""Every option the CLIs share, declared once: one flag, one help text, one meaning.

Each setting of :class:`~codeact.config.Settings` that a command line can set has one
declaration in :data:`SETTING_OPTIONS`. A command takes the ones it wants with
:func:`with_settings` and receives one ``settings`` argument (flags > environment >
config file > defaults), so a new setting is one field, one declaration here and its
name in a group such as :data:`AGENT`, not an edit of every command::

    @with_settings(AGENT, fail=fail)
    def run(task: str, settings: Settings, quiet: bool = False) -> None: ...

Lists of backends in the help texts come from their registries (LLM backends, sandbox
backends), so a registered backend shows up without editing a help string. This module
imports no front-end, so every package's CLI may import it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from codeact.config import ConfigError, load_settings

__all__ = ["AGENT", "SANDBOX", "SETTING_OPTIONS", "ActionFormat", "AllowPackage", "ApiKey",
           "BaseUrl", "ContextWindow", "DenyPackage", "ExecTimeout", "HintsOff", "KeepPackages",
           "KernelEnv", "MaxTurns", "Mcp", "Model", "NCtx", "NThreads", "Packages",
           "PackagesMaxMb", "Prompt", "RUNTIME", "Resample", "Runtime", "RuntimeKernel",
           "RuntimeToken", "SampleTemperature", "Samples", "Sandbox",
           "Temperature", "Tools", "UnsafeNoSandbox",
           "Workspace", "given", "model_help", "sandbox_help", "with_settings"]


# ------------------------------------------------------------- help from the registries
def _spec_prefixes(option: str | None = None) -> list[str]:
    """``NAME:MODEL`` prefixes of the LLM registry (only those taking ``option``)."""
    from codeact.llm import registry

    names = registry.prefixes()
    if option is not None:
        names = [n for n in names if option in (getattr(registry.backend(n), "options", ()))]
    return [f"{n}:NAME" for n in names]


def model_help() -> str:
    """--model's help: the local registry's names and the LLM registry's prefixes."""
    from codeact.llm.models import MODELS

    return (f"Model: a registry name ({', '.join(MODELS)}), a .gguf path, a checkpoint "
            f"directory, or {', '.join(_spec_prefixes())}. Env: CODEACT_MODEL.")


def sandbox_help() -> str:
    """--sandbox's help: the sandbox registry's backends, the unsafe ones said so."""
    from codeact.runtime.sandboxes import backend_names, get_backend

    names = [n if get_backend(n).isolated else f"{n} (UNSAFE: no isolation)"
             for n in backend_names()]
    return (f"Sandbox backend kernels run in: {', '.join(names)} (default bwrap). "
            "Env: CODEACT_SANDBOX.")


def _hint_names() -> list[str]:
    """The agent's registered hints, for --no-hint's help."""
    from codeact.agent.hints import hint_names

    return hint_names()


def _optional_hint_names() -> list[str]:
    """The hints that are off unless switched on, for --hint's help."""
    from codeact.agent.hints import default_hint_names, hint_names

    return [name for name in hint_names() if name not in default_hint_names()]


def _sandbox_names() -> Any:
    """``Literal[<registered sandbox backends>]``: typer checks the value and lists them."""
    from codeact.runtime.sandboxes import backend_names

    return Literal.__getitem__(tuple(backend_names()))  # type: ignore[attr-defined]


UNSAFE_HELP = ("The loud spelling of --sandbox none: run model-written code WITHOUT any "
               "sandbox, with your user's full access to files, network and secrets. Only "
               "for code you would run yourself. With --runtime: allow the gateway to start "
               "kernelspecs outside codeact's sandbox (e.g. python3), UNSAFE on its host.")

# ------------------------------------------------------------------ the declarations
Model = Annotated[str | None, typer.Option("--model", "-m", help=model_help())]
BaseUrl = Annotated[str | None, typer.Option(
    "--base-url", help=f"Model server URL for {', '.join(_spec_prefixes('base_url'))}. "
    "Env: OPENAI_BASE_URL.")]
ApiKey = Annotated[str | None, typer.Option(
    "--api-key", help=f"API key of the model server ({', '.join(_spec_prefixes('api_key'))})."
    " Env: OPENAI_API_KEY.")]
MaxTurns = Annotated[int | None, typer.Option(
    "--max-turns", help="Most model turns per task (default 10). Env: CODEACT_MAX_TURNS.")]
Tools = Annotated[list[str] | None, typer.Option(
    "--tools", help="Load tools from module:attr (repeatable). Env: CODEACT_TOOLS.")]
Mcp = Annotated[list[str] | None, typer.Option(
    "--mcp", help="Use the tools of an MCP server: a command line (stdio, e.g. 'npx -y "
    "@modelcontextprotocol/server-everything') or an http(s):// URL (streamable HTTP); "
    "repeatable. Env: CODEACT_MCP (';'-separated).")]
Workspace = Annotated[Path | None, typer.Option(
    "--workspace", help="Directory the sandboxed kernel works in (default: a new temporary "
    "one). Env: CODEACT_WORKSPACE.")]
ActionFormat = Annotated[str | None, typer.Option(
    "--format", help="Action format: code, json or text. Env: CODEACT_FORMAT.")]
ExecTimeout = Annotated[float | None, typer.Option(
    "--exec-timeout", help="Seconds one code action may run (default 60). "
    "Env: CODEACT_EXEC_TIMEOUT.")]
NCtx = Annotated[int | None, typer.Option(
    "--n-ctx", help="Context window for local GGUF models (default 8192). Env: CODEACT_N_CTX.")]
NThreads = Annotated[int | None, typer.Option(
    "--n-threads", help="CPU threads for local models (default: all cores). "
    "Env: CODEACT_N_THREADS.")]
Temperature = Annotated[float | None, typer.Option(
    "--temperature", help="Sampling temperature (default 0). Env: CODEACT_TEMPERATURE.")]
Seed = Annotated[int | None, typer.Option(
    "--seed", help="Seed of sampled replies (a temperature above 0, resampled repeats, "
    "--samples): the same seed draws the same run again (default: 0 at temperature 0, so a "
    "greedy run is reproducible; above 0 a new one each run, recorded in the trajectory's "
    "metadata). Env: CODEACT_SEED.")]
Prompt = Annotated[str | None, typer.Option(
    "--prompt", help="System prompt of the code format: a variant name (default, "
    "tools-example, v0) or a path to a prompt file. Env: CODEACT_PROMPT.")]
ContextWindow = Annotated[int | None, typer.Option(
    "--context-window", help="Tokens the model can attend to; older observations are "
    "shortened to stay inside it (default: what the backend knows, e.g. --n-ctx for local "
    "models). Env: CODEACT_CONTEXT_WINDOW.")]
Sandbox = Annotated[_sandbox_names() | None, typer.Option(  # type: ignore[valid-type]
    "--sandbox", help=sandbox_help())]
UnsafeNoSandbox = Annotated[bool, typer.Option("--unsafe-no-sandbox", help=UNSAFE_HELP)]
KernelEnv = Annotated[str | None, typer.Option(
    "--kernel-env", help="Python environment kernels run in: a venv path with ipykernel (e.g. "
    "your project's), or 'self' for codeact's own (default: the kernel environment of "
    "`codeact kernel-env create`; `run` and `chat` make it on first use). "
    "Env: CODEACT_KERNEL_ENV.")]
Runtime = Annotated[list[str] | None, typer.Option(
    "--runtime", help="Run kernels on a Jupyter Kernel Gateway or Enterprise Gateway instead "
    "of this machine: its URL (http://HOST:PORT); several, comma-separated or repeated, "
    "spread kernels over them (least loaded first; a gateway that dies is skipped). Implies "
    "--sandbox gateway. Env: CODEACT_RUNTIME (comma-separated).")]
RuntimeToken = Annotated[str | None, typer.Option(
    "--runtime-token", help="The gateways' auth token (sent as 'Authorization: token ...'). "
    "Env: CODEACT_RUNTIME_TOKEN.")]
RuntimeKernel = Annotated[str | None, typer.Option(
    "--runtime-kernel", help="Kernelspec the gateway starts (default codeact: the sandboxed "
    "one `codeact kernelspec install` writes on the gateway host; a spec outside codeact's "
    "sandbox, e.g. python3, is refused unless --unsafe-no-sandbox is given too). "
    "Env: CODEACT_RUNTIME_KERNEL.")]
Packages = Annotated[str | None, typer.Option(
    "--packages", help="`%pip install` in the sandbox, done by the host: allow, deny or ask "
    "(default allow; ask = deny without an interactive user, e.g. in serve and mcp). "
    "Env: CODEACT_PACKAGES.")]
AllowPackage = Annotated[list[str] | None, typer.Option(
    "--allow-package", help="Only these packages may be installed (repeatable). "
    "Env: CODEACT_PACKAGES_ALLOW.")]
DenyPackage = Annotated[list[str] | None, typer.Option(
    "--deny-package", help="Never install these, not even as dependencies (repeatable). "
    "Env: CODEACT_PACKAGES_DENY.")]
PackagesMaxMb = Annotated[int | None, typer.Option(
    "--packages-max-mb", help="Cap on wheels one session installs (default 200). "
    "Env: CODEACT_PACKAGES_MAX_MB.")]
KeepPackages = Annotated[bool, typer.Option(
    "--keep-packages", help="Keep installed packages for the workspace (under the user "
    "data dir) instead of dropping them with the session. Env: CODEACT_PACKAGES_PERSIST.")]

Resample = Annotated[int | None, typer.Option(
    "--resample", help="When a reply repeats an action that already ran, discard it unrun "
    "and ask the model again, sampling, up to this many times (default 2; 0: never). "
    "Env: CODEACT_RESAMPLE.")]
Samples = Annotated[int | None, typer.Option(
    "--samples", help="Self-consistency: run the task this many times (fresh kernel each "
    "time, sampling at --sample-temperature) and answer by majority vote (default 1). "
    "Env: CODEACT_SAMPLES.")]
SampleTemperature = Annotated[float | None, typer.Option(
    "--sample-temperature", help="Temperature of the --samples runs (default 0.7). "
    "Env: CODEACT_SAMPLE_TEMPERATURE.")]
SampleAll = Annotated[bool, typer.Option(
    "--sample-all", help="Make all --samples runs even once the vote is decided (the runs "
    "left could not change the answer; by default they are not made). For agreement "
    "statistics. Env: CODEACT_SAMPLE_ALL.")]
HintsOff = Annotated[list[str] | None, typer.Option(
    "--no-hint", help=f"Switch off one of the agent's hints for small models (repeatable): "
    f"{', '.join(_hint_names())}. Env: CODEACT_HINTS_OFF (comma-separated).")]
HintsOn = Annotated[list[str] | None, typer.Option(
    "--hint", help="Switch on a hint that is off by default (repeatable): "
    f"{', '.join(_optional_hint_names())}. Env: CODEACT_HINTS_ON (comma-separated).")]

Ablate = Annotated[list[str] | None, typer.Option(
    "--ablate", help="Switch off one agent mechanism to measure what it adds (repeatable): "
    "collapse (repeated failed exchanges stay in view), notes_heading (notes without their "
    "heading, turns left on every turn), did_you_mean (no did-you-mean notes on lookup "
    "errors), answer_check (answers end the run unchecked: no hint may refuse one). "
    "Env: CODEACT_ABLATE (comma-separated).")]

# setting name -> (its declaration, the default that means "not given")
SETTING_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (Model, None),
    "base_url": (BaseUrl, None),
    "api_key": (ApiKey, None),
    "max_turns": (MaxTurns, None),
    "tools": (Tools, None),
    "mcp": (Mcp, None),
    "workspace": (Workspace, None),
    "action_format": (ActionFormat, None),
    "exec_timeout": (ExecTimeout, None),
    "n_ctx": (NCtx, None),
    "n_threads": (NThreads, None),
    "temperature": (Temperature, None),
    "seed": (Seed, None),
    "prompt": (Prompt, None),
    "context_window": (ContextWindow, None),
    "sandbox": (Sandbox, None),
    "unsafe_no_sandbox": (UnsafeNoSandbox, False),
    "kernel_env": (KernelEnv, None),
    "runtime": (Runtime, None),
    "runtime_token": (RuntimeToken, None),
    "runtime_kernel": (RuntimeKernel, None),
    "packages": (Packages, None),
    "packages_allow": (AllowPackage, None),
    "packages_deny": (DenyPackage, None),
    "packages_max_mb": (PackagesMaxMb, None),
    "packages_persist": (KeepPackages, False),
    "resample": (Resample, None),
    "samples": (Samples, None),
    "sample_temperature": (SampleTemperature, None),
    "sample_all": (SampleAll, False),
    "hints_off": (HintsOff, None),
    "hints_on": (HintsOn, None),
    "ablate": (Ablate, None),
}

# where kernels run when not on this machine: gateways, their token, the kernelspec
RUNTIME = ("runtime", "runtime_token", "runtime_kernel")
# the kernel's sandbox, environment and package policy
SANDBOX = ("sandbox", "unsafe_no_sandbox", "kernel_env", "packages", "packages_allow",
           "packages_deny", "packages_max_mb", "packages_persist", *RUNTIME)
# everything an agent is built from (``run``; ``chat`` without ``action_format``)
AGENT = ("model", "base_url", "api_key", "max_turns", "tools", "mcp", "workspace",
         "action_format", "exec_timeout", "n_ctx", "n_threads", "temperature", "seed",
         "prompt", "context_window", "resample", "hints_off", "hints_on", *SANDBOX)


# -------------------------------------------------------------------- the collection
def given(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Flag values as ``load_settings`` overrides: an unset flag (None, an off switch, an
    empty list) is "not given", so the environment and the config file still decide."""
    out: dict[str, Any] = {}
    for name, value in flags.items():
        if value is False or value == []:
            value = None
        out[name] = str(value) if isinstance(value, Path) else value
    return out


def with_settings(names: Iterable[str], *, fail: Callable[[str], Any]
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options of the settings ``names``; it receives them as
    one ``settings: Settings`` argument, and its help lists them where that parameter
    stands. A broken setting is ``fail(message)``: raised, or raising itself."""
    names = tuple(names)
    unknown = [n for n in names if n not in SETTING_OPTIONS]
    if unknown:
        raise ValueError(f"no shared option for setting(s) {unknown}")

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name != "settings":
                params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
                continue
            for name in names:
                annotation, default = SETTING_OPTIONS[name]
                params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                                default=default, annotation=annotation))
        if "settings" not in signature.parameters:
            raise TypeError(f"{command.__name__} takes no 'settings' parameter")

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            flags = {name: kwargs.pop(name) for name in names}
            try:
                settings = load_settings(given(flags))
            except ConfigError as exc:
                raise fail(str(exc)) from None
            return command(settings=settings, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate

