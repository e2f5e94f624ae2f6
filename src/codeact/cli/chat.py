"""``codeact chat``: a multi-turn terminal chat with one persistent sandboxed session,
optionally asking before each code action (approval mode)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from codeact.cli.build import terminal_agent
from codeact.cli.options import AGENT, with_settings
from codeact.cli.output import console, err_console, fail
from codeact.config import Settings

CHAT_HELP = "Commands: /reset (forget everything, restart the kernel), /save FILE, /exit."
ApproveOpt = Annotated[bool | None, typer.Option(
    "--approve/--no-approve", help="Approval mode: show each code action and ask y (run) / "
    "e (edit, then run) / n (skip) before it runs. Default: on with --workspace (a folder "
    "of yours), off otherwise.")]


def approve_on_terminal(code: str) -> Any:
    """Approval mode: the user at the terminal runs, edits or skips the code shown above."""
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


@with_settings([name for name in AGENT if name != "action_format"], fail=fail)
def chat(settings: Settings, approve: ApproveOpt = None) -> None:
    """A multi-turn terminal chat with one persistent sandboxed session."""
    from codeact.cli.render import EventPrinter
    from codeact.events import DoneEvent

    agent = terminal_agent(settings, chat=True)
    if approve if approve is not None else settings.workspace is not None:
        agent.approve = approve_on_terminal
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
                save_chat(agent, line.removeprefix("/save").strip())
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


def save_chat(agent: Any, target: str) -> None:
    """/save FILE: the conversation's messages as JSON."""
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
