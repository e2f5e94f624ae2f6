"""The composition root: :class:`~codeact.config.Settings` -> the pieces of an agent -> an
:class:`~codeact.agent.Agent`.

Every front-end (``codeact run`` / ``chat``, ``serve``, ``mcp``, ``bench``, ``collect``)
turns settings into a model, tools, a prompt and a sandbox here, so a setting means the same
thing everywhere. Nothing here prints or exits: a failure is an :class:`AssembleError` with
a one-line message that each front-end shows its own way, and warnings and progress go
through the hooks a front-end passes (``warn``, ``create_env``, ``ask``).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from codeact.config import Settings
from codeact.errors import CodeactError

if TYPE_CHECKING:
    from codeact.agent import Agent, Approval
    from codeact.llm.base import LLM
    from codeact.runtime.packages import PackagePolicy
    from codeact.runtime.sandboxes import SandboxConfig
    from codeact.tools import Tool

__all__ = ["AssembleError", "agent_options", "build_agent", "check_prompt",
           "check_runtime_kernelspec", "check_sandbox",
           "hints_on",
           "kernel_env", "llm_factory", "llm_options", "load_mcp_tools", "load_tools",
           "make_llm", "package_policy", "runtime_fields", "runtime_urls", "sandbox_config",
           "sandbox_name", "sandbox_spec", "unsafe_warning"]

log = logging.getLogger("codeact")

Warn = Callable[[str], None]


class AssembleError(CodeactError, ValueError):
    """Settings that cannot become a working agent here; the message is one line."""


def _log_warning(message: str) -> None:
    log.warning("%s", message)


# ------------------------------------------------------------------------------ the model
def llm_options(settings: Settings, *, local: bool = True) -> dict[str, Any]:
    """The ``make_llm`` keywords the settings carry (unset ones left out). ``local`` False
    leaves out the local-model knobs (``n_ctx``, ``n_threads``) for front-ends that choose
    those themselves (bench and collect split the cores between their workers)."""
    names = ("base_url", "api_key", "n_ctx", "n_threads") if local else ("base_url", "api_key")
    return {name: getattr(settings, name) for name in names
            if getattr(settings, name) is not None}


def _make(spec: str, **options: Any) -> LLM:
    # looked up at call time: tests swap ``codeact.llm.factory.make_llm`` for a script
    from codeact.llm.factory import make_llm as factory_make_llm

    return factory_make_llm(spec, **options)


def llm_factory(settings: Settings, *, local: bool = True,
                **options: Any) -> Callable[[], LLM]:
    """A picklable no-argument callable that builds the settings' model (bench and collect
    workers, Ray actors, build one each); ``options`` override the settings'."""
    return functools.partial(_make, settings.model, **{**llm_options(settings, local=local),
                                                       **options})


def make_llm(settings: Settings, **options: Any) -> LLM:
    """The settings' model, loaded now; a bad spec, a missing file or a missing extra is
    one AssembleError."""
    from codeact.llm.base import LLMError

    try:
        return llm_factory(settings, **options)()
    except (LLMError, ValueError, FileNotFoundError) as exc:
        raise AssembleError(str(exc)) from None


# ------------------------------------------------------------------------- tools, prompt
def load_tools(specs: Sequence[str]) -> list[Tool]:
    """The tools of ``module:attr`` (or ``module``) specs, in order."""
    from codeact.tools import ToolLoadError
    from codeact.tools import load_tools as load_spec

    try:
        return [t for spec in specs for t in load_spec(spec)]
    except ToolLoadError as exc:
        raise AssembleError(str(exc)) from None


def load_mcp_tools(specs: Sequence[str], timeout: float) -> tuple[list[Tool], Any]:
    """Connect to MCP servers: (their tools, the manager that owns the connections, or
    None without servers). Close the manager when done: it stops stdio servers."""
    if not specs:
        return [], None
    from codeact.mcp import MCPError
    from codeact.mcp import load_mcp_tools as connect

    try:
        return connect(list(specs), call_timeout=timeout)
    except MCPError as exc:
        raise AssembleError(str(exc)) from None


def check_prompt(settings: Settings) -> None:
    """Fail now on an unknown ``prompt`` (before a slow model load, not after it)."""
    from codeact.prompts import PromptError, load_prompt

    try:
        load_prompt(settings.prompt, "code")
    except PromptError as exc:
        raise AssembleError(str(exc)) from None


# ------------------------------------------------------------------------------ sandbox
def sandbox_name(settings: Settings) -> str:
    """The settings' sandbox backend, checked against the registry (``gateway`` when
    ``runtime`` names gateway URLs; ``unsafe_no_sandbox`` then means "allow kernelspecs
    outside codeact's sandbox on the gateway", see :func:`runtime_fields`)."""
    from codeact.runtime.sandboxes import get_backend

    if settings.runtime:
        chosen = settings.sources.get("sandbox", "default")
        if chosen != "default" and settings.sandbox != "gateway" and \
                not settings.unsafe_no_sandbox:  # with --runtime: allow unsandboxed specs
            raise AssembleError(f"{chosen}: sandbox {settings.sandbox!r} conflicts with "
                                "--runtime (kernels on a gateway): give one of them")
        runtime_urls(settings)
        return "gateway"
    try:
        get_backend(settings.sandbox)
    except ValueError as exc:
        source = settings.sources.get("sandbox", "default")
        raise AssembleError(f"{source}: {exc}") from None
    return settings.sandbox


def runtime_urls(settings: Settings) -> tuple[str, ...]:
    """The gateway URLs of ``runtime``, normalised; a malformed one fails in one line."""
    from codeact.runtime.gateway import parse_urls

    try:
        return parse_urls(settings.runtime)
    except ValueError as exc:
        raise AssembleError(f"{settings.sources.get('runtime', 'runtime')}: {exc}") from None


def runtime_fields(settings: Settings) -> dict[str, Any]:
    """The SandboxConfig fields that place kernels on gateways (empty: kernels are local)."""
    if not settings.runtime:
        return {}
    return {"gateway_urls": runtime_urls(settings), "gateway_token": settings.runtime_token,
            "gateway_kernel": settings.runtime_kernel,
            "gateway_allow_unsandboxed": settings.unsafe_no_sandbox}


def sandbox_spec(settings: Settings) -> str | SandboxConfig:
    """What ``Agent(sandbox=...)`` takes for the settings: the backend's name, or with
    ``runtime`` a SandboxConfig naming the gateways (for bench and collect runs)."""
    from codeact.runtime.sandboxes import SandboxConfig

    name = sandbox_name(settings)
    fields = runtime_fields(settings)
    return SandboxConfig(backend=name, **fields) if fields else name


def unsafe_warning(settings: Settings) -> str | None:
    """What to say loudly when the sandbox does not isolate model code (None: it does)."""
    from codeact.runtime.sandboxes import get_backend

    name = sandbox_name(settings)
    if settings.runtime and settings.unsafe_no_sandbox:
        return ("UNSAFE: --unsafe-no-sandbox is set with --runtime: the gateway may start "
                "kernels outside codeact's sandbox (e.g. python3). Model-written code then "
                "runs with the gateway user's full access to its files, network and secrets.")
    if get_backend(name).isolated:
        return None
    how = "--unsafe-no-sandbox is set" if settings.unsafe_no_sandbox else f"sandbox {name!r}"
    return (f"UNSAFE: {how}. Model-written code runs with YOUR full access to files, "
            "network and secrets.")


def check_sandbox(settings: Settings) -> None:
    """Fail now, in one line, when the sandbox cannot work on this machine (bubblewrap
    missing, user namespaces refused) rather than at the first code action."""
    from codeact.runtime.sandboxes import (
        BwrapSandbox,
        SandboxConfig,
        SandboxUnavailable,
        get_backend,
    )
    from codeact.runtime.sandboxes.bwrap import check_bwrap

    name = sandbox_name(settings)
    backend = get_backend(name)
    hint = ("" if settings.runtime  # there --unsafe-no-sandbox means another thing
            else "(or pass --unsafe-no-sandbox to run model code unsandboxed)")
    try:
        backend.check_usable(SandboxConfig(backend=name, **runtime_fields(settings)))
    except SandboxUnavailable as exc:
        raise AssembleError(f"the code sandbox does not work here: {exc} {hint}".rstrip()
                            ) from None
    if settings.runtime:
        check_runtime_kernelspec(settings)
    if issubclass(backend, BwrapSandbox):  # the binary exists; do namespaces work?
        ok, message = check_bwrap()
        if not ok:
            raise AssembleError(f"the code sandbox does not work here: {message} {hint}")


def check_runtime_kernelspec(settings: Settings) -> None:
    """With ``runtime``: fail now, in one line, when a gateway would refuse the kernelspec
    at the first code action (missing, or outside codeact's sandbox without
    ``--unsafe-no-sandbox``), rather than after the model loaded. A gateway that does not
    answer now is left to the session (placement skips it, it may come back)."""
    from codeact.runtime.gateway import Gateway, GatewayError, KernelspecRefused

    async def check() -> None:
        for url in runtime_urls(settings):
            gateway = Gateway(url, settings.runtime_token)
            try:
                await gateway.check_kernelspec(settings.runtime_kernel,
                                               settings.unsafe_no_sandbox, warn=False)
            except KernelspecRefused as exc:
                raise AssembleError(str(exc)) from None
            except GatewayError:
                pass
            finally:
                await gateway.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(check())  # else (inside an event loop) the session checks it


def kernel_env(settings: Settings, *, create_env: Callable[[], object] | None = None,
               warn: Warn = _log_warning) -> str | None:
    """The kernel environment to use (None: the runtime's default).

    With ``create_env`` (e.g. a progress bar around ``kernel_env.create``), the default
    environment is made on first use; if that fails (offline), kernels run in codeact's
    own interpreter and ``warn`` says so. A broken ``kernel_env`` fails here, in one line.
    """
    from codeact.runtime import kernel_env as ke

    env = settings.kernel_env
    if env is None and create_env is not None and not ke.is_ready(ke.default_path()):
        try:
            create_env()
        except (ke.KernelEnvError, OSError) as exc:
            warn(f"could not create the kernel environment ({exc}); kernels run in "
                 "codeact's own interpreter, without the data stack")
            env = "self"
    if env is not None:
        try:
            ke.resolve(env)
        except ke.KernelEnvError as exc:
            raise AssembleError(str(exc)) from None
    return env


def package_policy(settings: Settings,
                   ask: Callable[[str], bool] | None = None) -> PackagePolicy:
    """What ``%pip install`` in the kernel may do. ``ask`` decides in ``ask`` mode (a
    terminal user); without it, ``ask`` behaves as ``deny``."""
    from codeact.runtime.packages import PackagePolicy

    try:
        return PackagePolicy(mode=settings.packages, allow=tuple(settings.packages_allow),
                             deny=tuple(settings.packages_deny),
                             max_mb=settings.packages_max_mb,
                             persist=settings.packages_persist, ask=ask)
    except ValueError as exc:
        raise AssembleError(str(exc)) from None


def sandbox_config(settings: Settings, *, ask: Callable[[str], bool] | None = None,
                   create_env: Callable[[], object] | None = None,
                   warn: Warn = _log_warning) -> SandboxConfig:
    """The kernels' sandbox backend, Python environment and package policy."""
    from codeact.runtime.sandboxes import SandboxConfig

    name = sandbox_name(settings)
    if settings.runtime:  # the kernel's environment is the gateway's kernelspec
        create_env = None
    env = kernel_env(settings, create_env=create_env, warn=warn)
    return SandboxConfig(backend=name, kernel_env=env, packages=package_policy(settings, ask),
                         **runtime_fields(settings))


# -------------------------------------------------------------------------------- agent
def agent_options(settings: Settings) -> dict[str, Any]:
    """The ``Agent`` keywords the settings decide (not the model, tools or sandbox)."""
    return {"action_format": settings.action_format, "max_turns": settings.max_turns,
            "exec_timeout": settings.exec_timeout, "max_new_tokens": settings.max_new_tokens,
            "temperature": settings.temperature, "prompt": settings.prompt,
            "context_window": settings.context_window, "resample": settings.resample,
            "hints": hints_on(settings), "seed": run_seed(settings)}


def run_seed(settings: Settings) -> int:
    """The seed of sampled replies: the one set; else 0 for a greedy run (its resamples
    too are then the same each time: a temperature-0 run is reproducible), and a new one
    at a temperature above 0 (two sampled runs differ, as a user expects); the trajectory
    records it."""
    if settings.seed is not None:
        return settings.seed
    return secrets.randbelow(2**31) if settings.temperature > 0 else 0


def hints_on(settings: Settings) -> list[str]:
    """The agent hints the settings leave on: the default ones but ``hints_off``, plus
    ``hints_on`` (both checked by name), in the order they run."""
    from codeact.agent.hints import default_hint_names, hint_names

    known = hint_names()
    for setting in ("hints_off", "hints_on"):
        unknown = sorted(set(getattr(settings, setting)) - set(known))
        if unknown:
            raise AssembleError(f"{settings.sources.get(setting, setting)}: unknown hint "
                                f"{', '.join(unknown)}; known hints: {', '.join(known)}")
    wanted = (set(default_hint_names()) - set(settings.hints_off)) | set(settings.hints_on)
    return [name for name in known if name in wanted]


def build_agent(
    settings: Settings,
    *,
    chat: bool,
    approve: Callable[[str], Approval] | None = None,
    ask: Callable[[str], bool] | None = None,
    create_env: Callable[[], object] | None = None,
    warn: Warn = _log_warning,
    llm: LLM | None = None,
    resources: ExitStack | None = None,
) -> Agent:
    """An agent as the settings describe it, its sandbox checked first and its prompt
    before the (slow) model load. ``chat``: keep the conversation between tasks;
    ``approve``: asked before each code action; ``ask``: asked for ``%pip install`` in
    ``ask`` mode; ``create_env``: makes the default kernel environment on first use;
    ``llm``: a model already built (else the settings' one is loaded). MCP connections
    close with ``resources`` when given, else when the process exits."""
    from codeact.agent import Agent

    check_sandbox(settings)
    tools = load_tools(settings.tools)
    if settings.mcp:
        mcp_tools, manager = load_mcp_tools(settings.mcp, settings.exec_timeout)
        if resources is not None:
            resources.callback(manager.close)
        else:
            atexit.register(manager.close)
        tools += mcp_tools
    check_prompt(settings)
    model = llm if llm is not None else make_llm(settings)
    sandbox = sandbox_config(settings, ask=ask, create_env=create_env, warn=warn)
    return Agent(model, tools, sandbox=sandbox, workspace=settings.workspace, chat=chat,
                 approve=approve, **agent_options(settings))
