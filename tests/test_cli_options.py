"""codeact.cli.options: shared options declared once, collected into one Settings, with
the registries' backends in their help."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from codeact.cli import app
from codeact.cli.options import SETTING_OPTIONS, Sandbox, given, with_settings
from codeact.config import Settings
from codeact.llm import registry
from codeact.llm.models import MODELS
from codeact.runtime.sandboxes import backend_names

runner = CliRunner()
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "none.toml"))
    for var in ("CODEACT_MODEL", "CODEACT_SANDBOX", "CODEACT_MAX_TURNS"):
        monkeypatch.delenv(var, raising=False)


def test_unset_flags_are_not_given() -> None:
    assert given({"unsafe_no_sandbox": False, "tools": [], "workspace": Path("/w"),
                  "max_turns": 3, "model": None}) == {
        "unsafe_no_sandbox": None, "tools": None, "workspace": "/w", "max_turns": 3,
        "model": None}


def test_every_setting_option_names_a_setting() -> None:
    fields = set(Settings.__dataclass_fields__) - {"sources"}
    assert set(SETTING_OPTIONS) <= fields


def toy_app(names: tuple[str, ...]) -> tuple[typer.Typer, list[Settings]]:
    seen: list[Settings] = []
    toy = typer.Typer()

    @toy.command()
    @with_settings(names, fail=lambda message: typer.BadParameter(message))
    def cmd(word: str, settings: Settings, loud: bool = False) -> None:
        seen.append(settings)
        print(word.upper() if loud else word)

    return toy, seen


def test_a_command_gets_one_settings_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    toy, seen = toy_app(("model", "max_turns", "sandbox", "unsafe_no_sandbox"))
    monkeypatch.setenv("CODEACT_MAX_TURNS", "7")
    result = runner.invoke(toy, ["hi", "--model", "openai:x", "--loud"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "HI"
    [s] = seen
    assert s.model == "openai:x" and s.sources["model"] == "command line"
    assert s.max_turns == 7 and s.sources["max_turns"] == "$CODEACT_MAX_TURNS"
    result = runner.invoke(toy, ["hi", "--unsafe-no-sandbox"])
    assert seen[-1].sandbox == "none" and seen[-1].unsafe_no_sandbox
    help_text = runner.invoke(toy, ["--help"], env=WIDE).output
    assert "--model" in help_text and "--temperature" not in help_text


def test_a_broken_setting_goes_to_the_commands_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    toy, seen = toy_app(("max_turns",))
    result = runner.invoke(toy, ["hi", "--max-turns", "0"])
    assert result.exit_code == 2 and "max_turns must be at least 1" in result.output
    assert not seen


def test_declaration_mistakes_fail_at_import_time() -> None:
    with pytest.raises(ValueError, match="no shared option"):
        with_settings(("modle",), fail=typer.BadParameter)
    with pytest.raises(TypeError, match="takes no 'settings' parameter"):
        with_settings(("model",), fail=typer.BadParameter)(lambda word: None)


@pytest.mark.parametrize("command", [["run"], ["chat"], ["serve"], ["mcp"], ["bench"],
                                     ["collect"], ["train", "compare"]])
def test_sandbox_option_lists_the_registry(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "--sandbox" in out and "--unsafe-no-sandbox" in out
    # the choices, read from the sandbox registry when the CLI was built (backends that
    # other tests register later cannot appear in a help made before them)
    built = typing.get_args(typing.get_args(typing.get_args(Sandbox)[0])[0])
    assert {"bwrap", "none"} <= set(built) and "|".join(built) in out


def test_the_sandbox_choices_come_from_the_registry() -> None:
    from codeact.cli.options import _sandbox_names

    assert typing.get_args(_sandbox_names()) == tuple(backend_names())


def test_an_unknown_sandbox_is_refused_by_the_option() -> None:
    result = runner.invoke(app, ["run", "x", "--sandbox", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


@pytest.mark.parametrize("command", [["run"], ["chat"], ["serve"], ["bench"], ["collect"]])
def test_model_help_comes_from_the_registries(command: list[str]) -> None:
    out = " ".join(runner.invoke(app, [*command, "--help"], env=WIDE).output.split())
    for prefix in registry.prefixes():
        assert f"{prefix}:NAME" in out
    for name in MODELS:
        assert name in out
