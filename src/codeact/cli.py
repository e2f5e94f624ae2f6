"""The ``codeact`` command: run, chat, serve, bench, collect, data, models, sandbox."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console

from codeact.config import ConfigError, Settings, load_settings

app = typer.Typer(
    name="codeact",
    help="LLM agents that act by writing Python, run in a sandboxed Jupyter kernel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

UNSAFE_HELP = ("Run model-written code WITHOUT any sandbox, with your user's full access "
               "to files, network and secrets. Only for code you would run yourself.")

# Options shared by `run` and `chat`.
ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="Registry name (qwen2.5-coder-1.5b, smollm2-135m), a .gguf path, "
    "openai:NAME, hf:REPO or litellm:NAME. Env: CODEACT_MODEL.")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible server URL for openai:NAME. Env: OPENAI_BASE_URL.")]
ApiKeyOpt = Annotated[str | None, typer.Option(
    "--api-key", help="API key for the server. Env: OPENAI_API_KEY.")]
MaxTurnsOpt = Annotated[int | None, typer.Option(
    "--max-turns", help="Most model turns per task (default 10). Env: CODEACT_MAX_TURNS.")]
ToolsOpt = Annotated[list[str] | None, typer.Option(
    "--tools", help="Load tools from module:attr (repeatable). Env: CODEACT_TOOLS.")]
McpOpt = Annotated[list[str] | None, typer.Option(
    "--mcp", help="Use the tools of an MCP server: a command line (stdio, e.g. 'npx -y "
    "@modelcontextprotocol/server-everything') or an http(s):// URL (streamable HTTP); "
    "repeatable. Env: CODEACT_MCP (';'-separated).")]
WorkspaceOpt = Annotated[Path | None, typer.Option(
    "--workspace", help="Directory the sandboxed kernel works in (default: a new temporary "
    "one). Env: CODEACT_WORKSPACE.")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="Action format: code, json or text. Env: CODEACT_FORMAT.")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--exec-timeout", help="Seconds one code action may run (default 60). "
    "Env: CODEACT_EXEC_TIMEOUT.")]
NCtxOpt = Annotated[int | None, typer.Option(
    "--n-ctx", help="Context window for local GGUF models (default 8192). Env: CODEACT_N_CTX.")]
NThreadsOpt = Annotated[int | None, typer.Option(
    "--n-threads", help="CPU threads for local models (default: all cores). "
    "Env: CODEACT_N_THREADS.")]
TemperatureOpt = Annotated[float | None, typer.Option(
    "--temperature", help="Sampling temperature (default 0). Env: CODEACT_TEMPERATURE.")]
UnsafeOpt = Annotated[bool, typer.Option("--unsafe-no-sandbox", help=UNSAFE_HELP)]
PromptOpt = Annotated[str | None, typer.Option(
    "--prompt", help="System prompt of the code format: a variant name (default, "
    "tools-example, v0) or a path to a prompt file. Env: CODEACT_PROMPT.")]
ContextWindowOpt = Annotated[int | None, typer.Option(
    "--context-window", help="Tokens the model can attend to; older observations are "
    "shortened to stay inside it (default: what the backend knows, e.g. --n-ctx for local "
    "models). Env: CODEACT_CONTEXT_WINDOW.")]

KernelEnvOpt = Annotated[str | None, typer.Option(
    "--kernel-env", help="Python environment kernels run in: a venv path with ipykernel (e.g. "
    "your project's), or 'self' for codeact's own (default: the kernel environment of "
    "`codeact kernel-env create`, made on first use). Env: CODEACT_KERNEL_ENV.")]
PackagesOpt = Annotated[str | None, typer.Option(
    "--packages", help="`%pip install` in the sandbox, done by the host: allow, deny or ask "
    "(default allow; ask = deny without an interactive user). Env: CODEACT_PACKAGES.")]
AllowPkgOpt = Annotated[list[str] | None, typer.Option(
    "--allow-package", help="Only these packages may be installed (repeatable). "
    "Env: CODEACT_PACKAGES_ALLOW.")]
DenyPkgOpt = Annotated[list[str] | None, typer.Option(
    "--deny-package", help="Never install these, not even as dependencies (repeatable). "
    "Env: CODEACT_PACKAGES_DENY.")]
PkgMaxOpt = Annotated[int | None, typer.Option(
    "--packages-max-mb", help="Cap on wheels one session installs (default 200). "
    "Env: CODEACT_PACKAGES_MAX_MB.")]
KeepPkgOpt = Annotated[bool, typer.Option(
    "--keep-packages", help="Keep installed packages for the workspace (under the user "
    "data dir) instead of dropping them with the session. Env: CODEACT_PACKAGES_PERSIST.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _settings(**flags: Any) -> Settings:
    if not flags.get("unsafe_no_sandbox"):
        flags["unsafe_no_sandbox"] = None  # not given: let the config file decide
    for name in ("tools", "mcp", "packages_allow", "packages_deny"):
        if flags.get(name) == []:
            flags[name] = None
    if not flags.get("packages_persist"):
        flags["packages_persist"] = None
    if flags.get("workspace") is not None:
        flags["workspace"] = str(flags["workspace"])
    try:
        return load_settings(flags)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _build_agent(settings: Settings, *, chat: bool) -> Any:
    """Load the model, the tools and the agent; turn known failures into one line."""
    from codeact.agent import Agent
    from codeact.llm.base import LLMError
    from codeact.llm.factory import make_llm
    from codeact.tools import ToolLoadError, load_tools

    if settings.unsafe_no_sandbox:
        err_console.print("[bold red on yellow] UNSAFE: --unsafe-no-sandbox is set. Model-"
                          "written code runs with YOUR full access to files, network and "
                          "secrets. [/]")
    else:
        from codeact.runtime import check_bwrap

        ok, message = check_bwrap()
        if not ok:
            raise _fail(f"the code sandbox does not work here: {message} (or pass "
                        "--unsafe-no-sandbox to run model code unsandboxed)")
    try:
        tools = [t for spec in settings.tools for t in load_tools(spec)]
    except ToolLoadError as exc:
        raise _fail(str(exc)) from None
    if settings.mcp:
        tools += _mcp_tools(settings.mcp, settings.exec_timeout)
    from codeact.prompts import PromptError, load_prompt

    try:  # before the (slow) model load: a typo in --prompt fails at once
        load_prompt(settings.prompt, "code")
    except PromptError as exc:
        raise _fail(str(exc)) from None
    try:
        llm = make_llm(settings.model, base_url=settings.base_url, api_key=settings.api_key,
                       n_ctx=settings.n_ctx, n_threads=settings.n_threads)
    except (LLMError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    return Agent(
        llm, tools,
        action_format=settings.action_format,
        sandbox=_sandbox_config(settings),
        workspace=settings.workspace,
        max_turns=settings.max_turns,
        exec_timeout=settings.exec_timeout,
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        chat=chat,
        prompt=settings.prompt,
        context_window=settings.context_window,
    )


def _mcp_tools(specs: list[str], timeout: float) -> list[Any]:
    """Connect to the --mcp servers; their connections close when the process exits."""
    import atexit

    from codeact.mcp import MCPError, load_mcp_tools

    try:
        tools, manager = load_mcp_tools(specs, call_timeout=timeout)
    except MCPError as exc:
        raise _fail(str(exc)) from None
    atexit.register(manager.close)
    return tools


def _ask_on_terminal(question: str) -> bool:
    """--packages ask: the user at the terminal decides (a host-side worker thread asks)."""
    reply = err_console.input(f"[bold magenta]{question}[/] [y/N] ")
    return reply.strip().lower() in ("y", "yes")


def _sandbox_config(settings: Settings) -> Any:
    """The kernel's sandbox, environment and package policy. The default kernel
    environment is created on first use (progress bar); if that fails (e.g. offline),
    kernels run in codeact's own interpreter, as the warning says."""
    from codeact.runtime import SandboxConfig
    from codeact.runtime import kernel_env as ke
    from codeact.runtime.packages import PackagePolicy

    env = settings.kernel_env
    if env is None and not ke.is_ready(ke.default_path()):
        from codeact.runtime.cli import create_with_progress

        try:
            create_with_progress(err_console)
        except (ke.KernelEnvError, OSError) as exc:
            err_console.print(f"[yellow]warning:[/] could not create the kernel environment "
                              f"({exc}); kernels run in codeact's own interpreter, without "
                              "the data stack")
            env = "self"
    try:
        if env is not None:
            ke.resolve(env)  # a broken --kernel-env fails here, in one line
        policy = PackagePolicy(mode=settings.packages, allow=tuple(settings.packages_allow),
                               deny=tuple(settings.packages_deny),
                               max_mb=settings.packages_max_mb,
                               persist=settings.packages_persist,
                               ask=_ask_on_terminal if sys.stdin.isatty() else None)
    except (ke.KernelEnvError, ValueError) as exc:
        raise _fail(str(exc)) from None
    return SandboxConfig(backend="none" if settings.unsafe_no_sandbox else "bwrap",
                         kernel_env=env, packages=policy)


@app.command()
def run(
    task: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    max_turns: MaxTurnsOpt = None,
    tools: ToolsOpt = None,
    mcp: McpOpt = None,
    workspace: WorkspaceOpt = None,
    action_format: FormatOpt = None,
    exec_timeout: TimeoutOpt = None,
    n_ctx: NCtxOpt = None,
    n_threads: NThreadsOpt = None,
    temperature: TemperatureOpt = None,
    prompt: PromptOpt = None,
    context_window: ContextWindowOpt = None,
    unsafe_no_sandbox: UnsafeOpt = False,
    kernel_env: KernelEnvOpt = None,
    packages: PackagesOpt = None,
    packages_allow: AllowPkgOpt = None,
    packages_deny: DenyPkgOpt = None,
    packages_max_mb: PkgMaxOpt = None,
    packages_persist: KeepPkgOpt = False,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the trajectory as one JSON line to this file ('-': stdout).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the final answer.")] = False,
    notebook_out: Annotated[Path | None, typer.Option(
        "--notebook", help="Also write the run as a Jupyter notebook (.ipynb).")] = None,
) -> None:
    """Solve one task; exit code 0 when the agent ended with an answer."""
    from codeact.events import DoneEvent
    from codeact.render import EventPrinter

    settings = _settings(model=model, base_url=base_url, api_key=api_key,
                         max_turns=max_turns, tools=tools, mcp=mcp, workspace=workspace,
                         action_format=action_format, exec_timeout=exec_timeout, n_ctx=n_ctx,
                         n_threads=n_threads, temperature=temperature, prompt=prompt,
                         context_window=context_window, unsafe_no_sandbox=unsafe_no_sandbox,
                         kernel_env=kernel_env, packages=packages,
                         packages_allow=packages_allow, packages_deny=packages_deny,
                         packages_max_mb=packages_max_mb, packages_persist=packages_persist)
    agent = _build_agent(settings, chat=False)
    printer = EventPrinter(Console(stderr=True) if json_out == Path("-") else console)
    trajectory = None
    try:
        for event in agent.stream(task):
            if isinstance(event, DoneEvent):
                trajectory = event.trajectory
            if not quiet:
                printer.handle(event)
    except KeyboardInterrupt:
        agent.interrupt()
        raise _fail("interrupted", 130) from None
    finally:
        agent.close()
    assert trajectory is not None
    if quiet and trajectory.answer is not None:
        console.print(trajectory.answer)
    if json_out is not None:
        line = trajectory.to_json() + "\n"
        if json_out == Path("-"):
            sys.stdout.write(line)
        else:
            json_out.write_text(line, encoding="utf-8")
    if notebook_out is not None:
        from codeact.notebook.cli import save_notebook
        save_notebook(trajectory, notebook_out)
    if trajectory.stop_reason == "error":
        raise _fail(trajectory.error or "the run failed", 1)
    raise typer.Exit(0 if trajectory.stop_reason == "solution" else 1)


CHAT_HELP = "Commands: /reset (forget everything, restart the kernel), /save FILE, /exit."
ApproveOpt = Annotated[bool | None, typer.Option(
    "--approve/--no-approve", help="Approval mode: show each code action and ask y (run) / "
    "e (edit, then run) / n (skip) before it runs. Default: on with --workspace (a folder "
    "of yours), off otherwise.")]


def _approve_on_terminal(code: str) -> Any:
    """Approval mode: the user at the terminal runs, edits or skips the code shown above."""
    import sys

    from codeact.agent import Approval

    while True:
        reply = err_console.input("[bold magenta]Run this code?[/] "
                                  "\\[y]es / \\[e]dit / \\[n]o, skip: ").strip().lower()
        if reply in ("y", "yes"):
            return Approval("run")
        if reply in ("n", "no", "s", "skip"):
            return Approval("skip")
        if reply not in ("e", "edit"):
            continue
        if sys.stdin.isatty():
            edited = click.edit(code, extension=".py")
            new = code if edited is None else edited.rstrip("\n")
        else:  # piped input: the new code, ended by a line with a single "."
            err_console.print("[dim]Type the code to run; end with a line holding only '.'[/]")
            lines = []
            while (line := err_console.input("")) != ".":
                lines.append(line)
            new = "\n".join(lines)
        if not new.strip():
            return Approval("skip")
        return Approval("run") if new == code else Approval("edit", new)



@app.command()
def chat(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    max_turns: MaxTurnsOpt = None,
    tools: ToolsOpt = None,
    mcp: McpOpt = None,
    workspace: WorkspaceOpt = None,
    exec_timeout: TimeoutOpt = None,
    n_ctx: NCtxOpt = None,
    n_threads: NThreadsOpt = None,
    temperature: TemperatureOpt = None,
    prompt: PromptOpt = None,
    context_window: ContextWindowOpt = None,
    unsafe_no_sandbox: UnsafeOpt = False,
    kernel_env: KernelEnvOpt = None,
    packages: PackagesOpt = None,
    packages_allow: AllowPkgOpt = None,
    packages_deny: DenyPkgOpt = None,
    packages_max_mb: PkgMaxOpt = None,
    packages_persist: KeepPkgOpt = False,
    approve: ApproveOpt = None,
) -> None:
    """A multi-turn terminal chat with one persistent sandboxed session."""
    from codeact.events import DoneEvent
    from codeact.render import EventPrinter

    settings = _settings(model=model, base_url=base_url, api_key=api_key,
                         max_turns=max_turns, tools=tools, mcp=mcp, workspace=workspace,
                         exec_timeout=exec_timeout, n_ctx=n_ctx, n_threads=n_threads,
                         temperature=temperature, prompt=prompt,
                         context_window=context_window, unsafe_no_sandbox=unsafe_no_sandbox,
                         kernel_env=kernel_env, packages=packages,
                         packages_allow=packages_allow, packages_deny=packages_deny,
                         packages_max_mb=packages_max_mb, packages_persist=packages_persist)
    agent = _build_agent(settings, chat=True)
    if approve if approve is not None else settings.workspace is not None:
        agent.approve = _approve_on_terminal
        console.print("[dim]approval mode: each code action waits for y / e / n[/]")
    printer = EventPrinter(console, show_turns=False)
    console.print(f"[dim]codeact chat with {settings.model}. {CHAT_HELP}[/]")
    try:
        while True:
            try:
                line = console.input("[bold cyan]you>[/] ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line in ("/exit", "/quit"):
                break
            if line == "/reset":
                agent.reset()
                console.print("[dim]conversation and kernel reset[/]")
                continue
            if line.startswith("/save"):
                _save_chat(agent, line.removeprefix("/save").strip())
                continue
            if line.startswith("/"):
                console.print(f"[yellow]unknown command {line.split()[0]}.[/] {CHAT_HELP}")
                continue
            try:
                for event in agent.stream(line):
                    if not isinstance(event, DoneEvent):
                        printer.handle(event)
            except KeyboardInterrupt:
                agent.interrupt()
                console.print("[yellow]interrupted[/]")
    except KeyboardInterrupt:
        pass
    finally:
        agent.close()


def _save_chat(agent: Any, target: str) -> None:
    import json

    if not target:
        console.print("[yellow]usage: /save FILE[/]")
        return
    try:
        Path(target).write_text(json.dumps(agent.messages, indent=2, ensure_ascii=False),
                                encoding="utf-8")
    except OSError as exc:
        console.print(f"[red]could not save to {target}: {exc.strerror}[/]")
        return
    console.print(f"[dim]saved {len(agent.messages)} messages to {target}[/]")


@app.command("config")
def show_config() -> None:
    """Show the effective settings and where each one came from."""
    from rich.table import Table

    from codeact.config import default_config_path

    settings = _settings()
    table = Table(title=f"config file: {default_config_path()}")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for name, source in settings.sources.items():
        value = getattr(settings, name)
        if name == "api_key" and value:
            value = value[:4] + "…"
        table.add_row(name, repr(value), source)
    console.print(table)


@app.command()
def doctor(
    selftest: Annotated[bool, typer.Option(
        "--selftest/--no-selftest", help="Run the sandbox attack self-test (about 20 s).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Print versions, bubblewrap, namespace support and the sandbox check, for bug reports."""
    import contextlib
    import json
    import logging

    from rich.table import Table

    from codeact.doctor import gather

    logging.getLogger("codeact.runtime").setLevel(logging.ERROR)
    busy = contextlib.nullcontext() if as_json else console.status("checking the sandbox...")
    with busy:
        report = gather(run_selftest=selftest)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    table = Table(title="codeact doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{report.python} on {report.platform}")
    for name, version in report.packages.items():
        table.add_row(name, version or "[dim]not installed[/]")
    table.add_row("libzmq", report.libzmq or "?")
    table.add_row("bubblewrap", report.bubblewrap or "[red]not installed[/]")
    table.add_row("sandbox", ("[green]works[/] - " if report.bwrap_ok else "[red]unavailable[/] - ")
                  + report.bwrap_message)
    for knob, value in report.namespaces.items():
        table.add_row(knob, "[dim]n/a[/]" if value is None else value)
    table.add_row("running as root", str(report.is_root))
    cgm = report.cgroups.get("mode", "off")
    table.add_row("session cgroups", ("[green]" if cgm != "off" else "[yellow]")
                  + report.cgroups.get("detail", "") + "[/]"
                  + ("" if cgm != "off" else " (memory and CPU limited per process only)"))
    st = report.selftest
    if "total" in st:
        not_blocked = st.get("not_blocked")
        bad = list(not_blocked) if isinstance(not_blocked, (list, tuple)) else []
        verdict = (f"[green]{st['blocked']}/{st['total']} attacks blocked[/]" if not bad else
                   f"[bold red]{st['blocked']}/{st['total']} blocked; NOT blocked: "
                   f"{', '.join(map(str, bad))}[/]")
        table.add_row("sandbox self-test", verdict)
    else:
        table.add_row("sandbox self-test", f"[dim]skipped ({st.get('skipped')})[/]")
    console.print(table)


def _mount_subcommands() -> None:
    from codeact.llm.cli import app as models_app
    from codeact.runtime.cli import app as sandbox_app
    from codeact.runtime.cli import kernel_env_app

    app.add_typer(models_app, name="models", help="List, pull, locate and add local models.")
    app.add_typer(sandbox_app, name="sandbox", help="Check the code sandbox.")
    app.add_typer(kernel_env_app, name="kernel-env",
                  help="The Python environment kernels run in (create, info).")
    try:
        from codeact.bench.cli import app as bench_app

        app.add_typer(bench_app, name="bench", help="Benchmark models and action formats.")
    except ImportError:  # pragma: no cover - bench extras missing
        pass
    try:
        from codeact.data.cli import app as data_app
        from codeact.data.cli import collect

        app.command("collect")(collect)
        app.add_typer(data_app, name="data",
                      help="Training data: export, import, stats, show, generate.")
    except ImportError:  # pragma: no cover - data extras missing
        pass
    try:
        from codeact.server.cli import serve

        app.command("serve")(serve)
    except ImportError:  # pragma: no cover - server deps missing
        pass
    from codeact.notebook.cli import notebook

    app.command("notebook")(notebook)
    from codeact.mcp.cli import app as mcp_app

    app.add_typer(mcp_app, name="mcp", help="Serve a sandboxed Python kernel over MCP; "
                  "list an MCP server's tools as codeact sees them.")
    from codeact.train.cli import app as train_app
    from codeact.train.cli import self_distill_cmd

    app.add_typer(train_app, name="train", help="Fine-tune a model on code-action "
                  "trajectories; compare it with its base; export it.")
    try:  # `codeact data self-distill` when the data sub-app exists (also `train self-distill`)
        from codeact.data.cli import app as data_app

        data_app.command("self-distill")(self_distill_cmd)
    except ImportError:  # pragma: no cover - data sub-app not installed
        pass


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
