"""The `codeact` command end to end, with the scripted backend and a real sandbox."""

import json

import pytest
from typer.testing import CliRunner

import codeact.llm.factory as factory
from codeact.cli import app
from codeact.llm.scripted import ScriptedLLM
from codeact.trajectory import Trajectory

runner = CliRunner()


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    """Make every --model resolve to a scripted backend with the given replies."""
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "config.toml"))
    for var in ("CODEACT_MODEL", "CODEACT_TOOLS", "CODEACT_MAX_TURNS"):
        monkeypatch.delenv(var, raising=False)
    made: dict = {}

    def use(replies):
        def fake_make_llm(spec, **options):
            made["spec"], made["options"] = spec, options
            return ScriptedLLM(replies)

        monkeypatch.setattr(factory, "make_llm", fake_make_llm)
        return made

    return use


def test_run_streams_and_exits_zero(scripted, tmp_path):
    made = scripted(["Let me compute.\n<execute>print(6 * 7)</execute>",
                     "<solution>42</solution>"])
    out = tmp_path / "traj.jsonl"
    result = runner.invoke(app, ["run", "What is 6*7?", "--json", str(out),
                                 "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "Let me compute." in result.output and "print(6 * 7)" in result.output
    assert "42" in result.output and "stopped: solution" in result.output
    traj = Trajectory.from_json(out.read_text())
    assert traj.answer == "42" and traj.turns[0].observation.startswith("42")
    assert made["spec"] == "qwen2.5-coder-1.5b"


def test_run_without_answer_exits_one(scripted):
    scripted(lambda messages: "<execute>print(1)</execute>")
    result = runner.invoke(app, ["run", "loop", "--max-turns", "2", "--quiet"])
    assert result.exit_code == 1


def test_run_json_to_stdout(scripted):
    scripted(["<solution>yes</solution>"])
    result = runner.invoke(app, ["run", "ok?", "--json", "-", "--model", "smollm2-135m"])
    assert result.exit_code == 0
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1]
    assert json.loads(line)["answer"] == "yes"


def test_tools_option(scripted, tmp_path, monkeypatch):
    (tmp_path / "cli_tools_mod.py").write_text(
        "def triple(x: int) -> int:\n    '''Triple x.'''\n    return 3 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    scripted(["<execute>print(triple(5))</execute>", "<solution>15"])
    result = runner.invoke(app, ["run", "triple 5", "--tools", "cli_tools_mod:triple"])
    assert result.exit_code == 0, result.output
    assert "15" in result.output
    bad = runner.invoke(app, ["run", "x", "--tools", "cli_tools_mod:nope"])
    assert bad.exit_code == 2 and "has no attribute 'nope'" in bad.output


def test_broken_config_is_one_clear_error(scripted, tmp_path):
    (tmp_path / "config.toml").write_text("max_turns = [\n")
    result = runner.invoke(app, ["run", "x"])
    assert result.exit_code == 2
    assert "config.toml" in result.output and "line" in result.output
    assert "Traceback" not in result.output


def test_unreachable_server_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "none.toml"))
    result = runner.invoke(app, ["run", "x", "--model", "openai:test",
                                 "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k"])
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output and "Traceback" not in result.output


def test_unsafe_flag_warns_loudly(scripted):
    scripted(["<execute>print('hi')</execute>", "<solution>hi"])
    result = runner.invoke(app, ["run", "x", "--unsafe-no-sandbox"])
    assert result.exit_code == 0
    assert "UNSAFE" in result.output


def test_sandbox_option_and_variable(scripted, monkeypatch):
    scripted(["<execute>print('hi')</execute>", "<solution>hi"])
    result = runner.invoke(app, ["run", "x", "--sandbox", "none", "--kernel-env", "self"])
    assert result.exit_code == 0, result.output
    assert "UNSAFE: sandbox 'none'" in " ".join(result.output.split())
    monkeypatch.setenv("CODEACT_SANDBOX", "nope")
    result = runner.invoke(app, ["run", "x"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "$CODEACT_SANDBOX: unknown sandbox backend 'nope'" in " ".join(result.output.split())
    result = runner.invoke(app, ["run", "x", "--sandbox", "bwrap", "--unsafe-no-sandbox"])
    assert result.exit_code == 2
    assert "contradicts sandbox 'bwrap'" in " ".join(result.output.split())


def test_run_and_chat_with_kernels_on_a_gateway(scripted, gateway, tmp_path):
    scripted(["<execute>import os\nprint(os.getcwd().startswith('/tmp/codeact-ws-'))"
              "\nopen('made.txt', 'w').write('remote')</execute>", "<solution>done"])
    ws = tmp_path / "ws"
    before = len(gateway.log.read_text().split("POST /api/kernels"))
    result = runner.invoke(app, ["run", "x", "--runtime", gateway.url,
                                 "--runtime-token", gateway.token, "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "True" in result.output and "stopped: solution" in result.output
    assert (ws / "made.txt").read_text() == "remote"  # the workspace came back
    assert len(gateway.log.read_text().split("POST /api/kernels")) == before + 1
    scripted(["<execute>print(21 * 2)</execute>", "It is 42."])
    result = runner.invoke(app, ["chat", "--runtime", gateway.url, "--runtime-token",
                                 gateway.token], input="what is 21*2?\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "It is 42." in result.output
    result = runner.invoke(app, ["run", "x", "--runtime", "ftp://nope"])
    assert result.exit_code == 2 and "not a gateway URL" in result.output


def test_runtime_refuses_an_unsandboxed_kernelspec_unless_unsafe_no_sandbox(scripted, gateway):
    scripted(["<execute>print('ran')</execute>", "<solution>done"])
    result = runner.invoke(app, ["run", "x", "--runtime", gateway.url, "--runtime-token",
                                 gateway.token, "--runtime-kernel", "python3"])
    out = " ".join(result.output.split())
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    assert f"kernelspec 'python3' on gateway {gateway.url} is not sandboxed" in out
    assert "ran" not in result.output
    scripted(["<execute>print('ran')</execute>", "<solution>done"])
    result = runner.invoke(app, ["run", "x", "--runtime", gateway.url, "--runtime-token",
                                 gateway.token, "--runtime-kernel", "python3",
                                 "--unsafe-no-sandbox"])
    out = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "UNSAFE: --unsafe-no-sandbox is set with --runtime" in out and "ran" in out
    result = runner.invoke(app, ["run", "x", "--runtime", gateway.url, "--runtime-token",
                                 gateway.token, "--runtime-kernel", "nope"])
    out = " ".join(result.output.split())
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    assert f"gateway {gateway.url} has no kernelspec 'nope'" in out


def test_chat_commands(scripted, tmp_path):
    scripted(["<execute>n = 2</execute>", "n is 2.", "Hello again."])
    saved = tmp_path / "chat.json"
    result = runner.invoke(app, ["chat"], input=f"set n\n/bogus\n/save {saved}\n/reset\n"
                                                "hi\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "n is 2." in result.output and "unknown command /bogus" in result.output
    assert "conversation and kernel reset" in result.output
    assert "Hello again." in result.output
    messages = json.loads(saved.read_text())
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user",
                                             "assistant"]


def test_config_command_shows_sources(monkeypatch, tmp_path):
    (tmp_path / "c.toml").write_text('max_turns = 3\n')
    monkeypatch.setenv("CODEACT_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.setenv("CODEACT_MODEL", "smollm2-135m")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0
    assert "$CODEACT_MODEL" in result.output and "c.toml" in result.output


def test_prompt_and_context_window_options(scripted, tmp_path):
    scripted(["<execute>final_answer(6 * 7)</execute>"])
    result = runner.invoke(app, ["run", "--json", "-", "-q", "--prompt", "tools-example",
                                 "--context-window", "4096", "what is 6*7"])
    assert result.exit_code == 0, result.output
    traj = Trajectory.from_json(result.stdout.strip().splitlines()[-1])
    assert traj.answer == "42" and traj.metadata["prompt"] == "tools-example"
    assert "get_price" in traj.messages[0]["content"]
    mine = tmp_path / "p.md"
    mine.write_text("Answer tersely.\n{tools}\nUse <execute> and <solution>.")
    scripted(["<solution>ok</solution>"])
    result = runner.invoke(app, ["run", "--json", "-", "-q", "--prompt", str(mine), "x"])
    traj = Trajectory.from_json(result.stdout.strip().splitlines()[-1])
    assert traj.messages[0]["content"].startswith("Answer tersely.")


def test_unknown_prompt_is_one_clear_error(scripted):
    scripted(["<solution>1</solution>"])
    result = runner.invoke(app, ["run", "--prompt", "nope", "x"])
    assert result.exit_code == 2 and "unknown code prompt 'nope'" in result.output


def test_kernel_env_and_package_options(scripted, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    scripted(["<solution>x</solution>"])
    result = runner.invoke(app, ["run", "t", "--kernel-env", str(bare)])
    assert result.exit_code == 2 and "no bin/python" in " ".join(result.output.split())
    result = runner.invoke(app, ["run", "t", "--packages", "maybe"])
    assert result.exit_code == 2
    assert "packages must be allow, deny or ask" in " ".join(result.output.split())
    scripted(["<execute>%pip install six</execute>", "<solution>done</solution>"])
    out = tmp_path / "t.jsonl"
    result = runner.invoke(app, ["run", "t", "--packages", "deny", "--json", str(out)])
    assert result.exit_code == 0, result.output
    traj = Trajectory.from_json(out.read_text())
    assert "failed: package installs are disabled" in traj.turns[0].observation
    assert "%pip install NAME" not in traj.messages[0]["content"]
    scripted(["<execute>%pip install six</execute>", "<solution>done</solution>"])
    result = runner.invoke(app, ["run", "t", "--deny-package", "six", "--json", str(out)])
    traj = Trajectory.from_json(out.read_text())
    assert "blocked by policy: six is on the deny list" in traj.turns[0].observation


def test_chat_approval_mode_runs_edits_and_skips(scripted, tmp_path):
    scripted(["<execute>print('first')</execute>", "<solution>It printed one.</solution>",
              "<execute>print('second')</execute>", "<solution>It printed two.</solution>",
              "<execute>print('third')</execute>", "<solution>It was skipped.</solution>"])
    work = tmp_path / "mine"
    work.mkdir()
    # --workspace (a folder of the user's) turns approval mode on by default
    result = runner.invoke(app, ["chat", "--workspace", str(work)],
                           input="a\nmaybe\ny\nb\ne\nprint('edited', 6 * 7)\n.\nc\nn\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "approval mode" in result.output
    assert "first" in result.output and "edited 42" in result.output
    assert result.output.count("Run this code?") == 4  # "maybe" is asked again
    assert "[y]es / [e]dit / [n]o" in result.output
    assert "declined to run this code" in result.output  # the skipped one: never ran
    assert "\nthird" not in result.output


def test_chat_without_approval_does_not_ask(scripted, tmp_path):
    scripted(["<execute>print('ran')</execute>", "<solution>ok</solution>"])
    result = runner.invoke(app, ["chat", "--workspace", str(tmp_path), "--no-approve"],
                           input="go\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "Run this code?" not in result.output and "ran" in result.output


def test_run_samples_votes_and_shows_the_agreement(scripted, tmp_path):
    scripted(["<solution>7</solution>", "<solution>8</solution>", "<solution>7.0</solution>"])
    out = tmp_path / "traj.jsonl"
    result = runner.invoke(app, ["run", "seven?", "--samples", "3", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "sample 3 of 3" in result.output
    assert "vote: 2 of 3 runs agree" in result.output
    traj = Trajectory.from_json(out.read_text())
    assert traj.answer == "7" and traj.metadata["samples"]["answers"] == ["7", "8", "7.0"]


def test_a_kept_refused_guess_is_shown_as_such(scripted):
    fail = "<execute>import pandas as pd\npd.read_csv('{}.csv')</execute>"
    scripted([fail.format("a"), "<execute>final_answer('paint')</execute>", fail.format("b"),
              fail.format("c")])
    result = runner.invoke(app, ["run", "Which category?", "--max-turns", "4"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "answer (refused earlier as unchecked, kept: the run ended without another)" in flat


def test_run_samples_stop_once_the_vote_is_decided_unless_sample_all(scripted):
    scripted(lambda messages: "<solution>7</solution>")
    result = runner.invoke(app, ["run", "seven?", "--samples", "5"])
    assert result.exit_code == 0, result.output
    assert "sample 3 of 5" in result.output and "sample 4 of 5" not in result.output
    flat = " ".join(result.output.split())
    assert "vote: 3 of 3 runs agree" in flat
    assert "the other 2 could not change the vote: not run" in flat
    result = runner.invoke(app, ["run", "seven?", "--samples", "5", "--sample-all"])
    assert "sample 5 of 5" in result.output and "vote: 5 of 5 runs agree" in result.output


def test_resample_and_hint_switches_reach_the_agent(scripted):
    scripted(lambda messages: "<execute>print(nope)</execute>")
    result = runner.invoke(app, ["run", "x", "--max-turns", "3", "--resample", "1"])
    flat = " ".join(result.output.split())
    assert flat.count("[discarded: it repeats an action that failed with: NameError: name "
                      "'nope' is not defined; asking again (try 1)]") == 2  # turns 2 and 3
    result = runner.invoke(app, ["run", "x", "--max-turns", "3", "--no-hint", "repeats"])
    assert "discarded" not in result.output  # the repeat hint is what vetoes a repeat
    assert "stopped: max_turns" in result.output
    result = runner.invoke(app, ["run", "x", "--no-hint", "nonsense"])
    assert result.exit_code == 2 and "unknown hint nonsense; known hints:" in result.output


def test_an_optional_hint_is_switched_on_by_name(scripted):
    scripted(["<execute>print(6 * 7)</execute>", "<execute>final_answer(42)</execute>",
              "<execute>final_answer(42)</execute>"])
    result = runner.invoke(app, ["run", "six times seven?", "--hint", "self_check"])
    assert result.exit_code == 0, result.output
    assert "Does it give exactly what the task asks for" in " ".join(result.output.split())
    assert "self_check" in runner.invoke(app, ["run", "--help"]).output
