"""codeact.assemble: settings -> model, tools, prompt, sandbox -> an agent that runs.

Real pieces throughout: a toy LLM backend registered in the real registry, tools loaded
from a real module, a real sandboxed kernel for the agent run.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from mcp_helpers import STDIO_SPEC

from codeact import assemble
from codeact.assemble import AssembleError
from codeact.config import Settings, load_settings
from codeact.errors import CodeactError
from codeact.llm import registry
from codeact.llm.scripted import ScriptedLLM
from codeact.runtime import kernel_env as ke


class Replay(ScriptedLLM):
    """``replay:NAME``: a scripted model the registry builds like any backend."""

    def __init__(self, model: str, **options: object) -> None:
        super().__init__(["Let me compute.\n<execute>print(triple(14))</execute>",
                          "<solution>42</solution>"], name=f"replay:{model}")
        self.options = options


@pytest.fixture
def replay() -> Iterator[None]:
    registry.register("replay", Replay, options=("base_url", "api_key"))
    yield
    registry.unregister("replay")


@pytest.fixture
def settings_of(tmp_path: Path):
    """load_settings from flags and variables only (no user config file)."""
    def load(env: dict[str, str] | None = None, **flags: object) -> Settings:
        return load_settings(flags, env=env or {}, config_path=tmp_path / "none.toml")
    return load


@pytest.fixture
def tools_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "assemble_tools_mod.py").write_text(
        "def triple(x: int) -> int:\n    '''Triple x.'''\n    return 3 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "assemble_tools_mod"


def test_errors_are_codeact_errors_with_one_line() -> None:
    assert issubclass(AssembleError, CodeactError) and issubclass(AssembleError, ValueError)


# ------------------------------------------------------------------------------ sandbox
def test_sandbox_config_takes_backend_env_and_package_policy(settings_of) -> None:
    s = settings_of(sandbox="none", kernel_env="self", packages="deny",
                    packages_deny=["six"], packages_max_mb=5, packages_persist=True)
    cfg = assemble.sandbox_config(s)
    assert cfg.backend == "none" and cfg.kernel_env == "self"
    assert (cfg.packages.mode, cfg.packages.deny, cfg.packages.max_mb,
            cfg.packages.persist) == ("deny", ("six",), 5, True)
    assert cfg.packages.ask is None  # no one to ask: ``ask`` behaves as deny

    def yes(question: str) -> bool:
        return True
    assert assemble.sandbox_config(s, ask=yes).packages.ask is yes
    assert assemble.sandbox_config(settings_of(kernel_env="self")).backend == "bwrap"


def test_the_unsafe_alias_and_its_warning(settings_of) -> None:
    assert assemble.unsafe_warning(settings_of()) is None
    alias = assemble.unsafe_warning(settings_of(unsafe_no_sandbox=True))
    assert alias is not None and "UNSAFE: --unsafe-no-sandbox is set" in alias
    named = assemble.unsafe_warning(settings_of(sandbox="none"))
    assert named is not None and "UNSAFE: sandbox 'none'" in named
    assert assemble.sandbox_config(settings_of(unsafe_no_sandbox=True,
                                               kernel_env="self")).backend == "none"


def test_runtime_urls_put_kernels_on_gateways(settings_of) -> None:
    s = settings_of(env={"CODEACT_RUNTIME": "http://10.0.0.1:8888/, http://10.0.0.2:8888",
                         "CODEACT_RUNTIME_TOKEN": "t0k", "CODEACT_RUNTIME_KERNEL": "codeact"})
    cfg = assemble.sandbox_config(s)
    assert cfg.backend == "gateway"
    assert cfg.gateway_urls == ("http://10.0.0.1:8888", "http://10.0.0.2:8888")
    assert (cfg.gateway_token, cfg.gateway_kernel) == ("t0k", "codeact")
    spec = assemble.sandbox_spec(s)  # bench and collect: picklable for Ray workers
    assert pickle.loads(pickle.dumps(spec)).gateway_urls == cfg.gateway_urls
    assert assemble.sandbox_spec(settings_of()) == "bwrap"
    assert assemble.unsafe_warning(s) is None  # model code does not run on this machine
    flag = assemble.sandbox_config(settings_of(runtime=["http://h:1"], kernel_env="self"))
    assert flag.gateway_urls == ("http://h:1",) and flag.gateway_kernel == "codeact"
    assert flag.gateway_allow_unsandboxed is False


def test_unsafe_no_sandbox_with_runtime_allows_unsandboxed_gateway_kernels(settings_of) -> None:
    s = settings_of(runtime=["http://h:1"], unsafe_no_sandbox=True, runtime_kernel="python3")
    cfg = assemble.sandbox_config(s)
    assert (cfg.backend, cfg.gateway_kernel, cfg.gateway_allow_unsandboxed) == (
        "gateway", "python3", True)
    warning = assemble.unsafe_warning(s)
    assert warning is not None and warning.startswith("UNSAFE: --unsafe-no-sandbox is set "
                                                      "with --runtime")
    with pytest.raises(AssembleError) as info:  # only the loud spelling means this
        assemble.sandbox_config(settings_of(runtime=["http://h:1"], sandbox="none"))
    assert "conflicts with --runtime" in str(info.value)


def test_a_bad_runtime_is_one_line(settings_of) -> None:
    with pytest.raises(AssembleError) as info:
        assemble.sandbox_config(settings_of(runtime=["ftp://x"]))
    assert "\n" not in str(info.value) and "not a gateway URL: 'ftp://x'" in str(info.value)
    with pytest.raises(AssembleError) as info:
        assemble.sandbox_config(settings_of(runtime=["http://h:1"], sandbox="bwrap"))
    assert "conflicts with --runtime" in str(info.value)


def test_unknown_sandbox_is_one_line_naming_where_it_came_from(settings_of) -> None:
    s = settings_of(env={"CODEACT_SANDBOX": "docker-ish"})
    with pytest.raises(AssembleError) as info:
        assemble.sandbox_config(s)
    message = str(info.value)
    assert "\n" not in message and "$CODEACT_SANDBOX" in message
    assert "'docker-ish'" in message and "'bwrap'" in message and "'none'" in message


def test_broken_kernel_env_is_one_line(settings_of, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(AssembleError) as info:
        assemble.sandbox_config(settings_of(kernel_env=str(bare)))
    assert "no bin/python" in str(info.value) and "\n" not in str(info.value)


def test_first_use_kernel_env_failure_falls_back_to_own_interpreter(
        settings_of, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ke, "is_ready", lambda path: False)
    said: list[str] = []

    def offline() -> object:
        raise ke.KernelEnvError("no network")

    assert assemble.kernel_env(settings_of(), create_env=offline, warn=said.append) == "self"
    assert len(said) == 1 and "no network" in said[0]
    made: list[bool] = []
    assert assemble.kernel_env(settings_of(), create_env=lambda: made.append(True)) is None
    assert made == [True]
    # an explicit environment is never replaced by the default one
    assert assemble.kernel_env(settings_of(kernel_env="self"), create_env=offline) == "self"
    # without the hook (serve, mcp) nothing is created
    assert assemble.kernel_env(settings_of()) is None


def test_bwrap_is_checked_for_working_namespaces(settings_of) -> None:
    assemble.check_sandbox(settings_of())  # bubblewrap works on the test machines
    assemble.check_sandbox(settings_of(sandbox="none"))


def test_unusable_sandbox_is_one_line_with_the_way_out(
        settings_of, monkeypatch: pytest.MonkeyPatch) -> None:
    from codeact.runtime.sandboxes import bwrap

    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    with pytest.raises(AssembleError) as info:
        assemble.check_sandbox(settings_of())
    message = str(info.value)
    assert message.startswith("the code sandbox does not work here: bubblewrap")
    assert "--unsafe-no-sandbox" in message


# ------------------------------------------------------------------- model, tools, prompt
def test_tools_from_specs_and_a_bad_spec(tools_module: str) -> None:
    tools = assemble.load_tools([f"{tools_module}:triple"])
    assert [t.name for t in tools] == ["triple"] and tools[0].fn(2) == 6
    with pytest.raises(AssembleError, match="has no attribute 'nope'"):
        assemble.load_tools([f"{tools_module}:nope"])


def test_mcp_tools(tmp_path: Path) -> None:
    assert assemble.load_mcp_tools([], 10.0) == ([], None)
    with pytest.raises(AssembleError, match="could not be used"):
        assemble.load_mcp_tools(["no-such-mcp-command"], 10.0)


def test_unknown_prompt(settings_of) -> None:
    assemble.check_prompt(settings_of(prompt="tools-example"))
    with pytest.raises(AssembleError, match="unknown code prompt 'nope'"):
        assemble.check_prompt(settings_of(prompt="nope"))


def test_llm_from_the_registry_with_the_settings_options(settings_of, replay: None) -> None:
    s = settings_of(model="replay:small", base_url="http://h/v1", api_key="k")
    llm = assemble.make_llm(s)
    assert isinstance(llm, Replay) and llm.options == {"base_url": "http://h/v1",
                                                       "api_key": "k"}
    factory = assemble.llm_factory(s, local=False)
    assert isinstance(pickle.loads(pickle.dumps(factory))(), Replay)  # Ray ships it
    assert assemble.llm_options(s) == {"base_url": "http://h/v1", "api_key": "k",
                                       "n_ctx": 8192}
    assert assemble.llm_options(s, local=False) == {"base_url": "http://h/v1",
                                                    "api_key": "k"}
    with pytest.raises(AssembleError, match="unknown model 'nonsense'"):
        assemble.make_llm(settings_of(model="nonsense"))


def test_agent_options_follow_the_settings(settings_of) -> None:
    s = settings_of(max_turns=3, temperature=0.5, prompt="v0", context_window=2048)
    opts = assemble.agent_options(s)
    assert (opts["max_turns"], opts["temperature"], opts["prompt"],
            opts["context_window"], opts["action_format"]) == (3, 0.5, "v0", 2048, "code")


def test_a_seed_set_is_kept_and_an_unset_one_is_new_each_time(settings_of) -> None:
    assert assemble.agent_options(settings_of(seed=7))["seed"] == 7
    assert assemble.agent_options(settings_of(env={"CODEACT_SEED": "9"}))["seed"] == 9
    drawn = {assemble.agent_options(settings_of(temperature=0.7))["seed"] for _ in range(5)}
    assert len(drawn) > 1  # five draws from 2**31 values
    assert assemble.agent_options(settings_of())["seed"] == 0  # greedy: reproducible


# -------------------------------------------------------------------------------- agent
def test_build_agent_runs_a_task(settings_of, replay: None, tools_module: str,
                                 tmp_path: Path) -> None:
    s = settings_of(model="replay:small", tools=[f"{tools_module}:triple"],
                    kernel_env="self", max_turns=4, workspace=str(tmp_path / "ws"))
    agent = assemble.build_agent(s, chat=False)
    try:
        traj = agent.run("What is 3 * 14?")
    finally:
        agent.close()
    assert traj.answer == "42" and traj.turns[0].observation.startswith("42")
    assert traj.metadata["seed"] == agent.seed  # the run can be drawn again
    assert agent.max_turns == 4 and [t.name for t in agent.tools] == ["triple"]
    assert (tmp_path / "ws").is_dir()


def test_build_agent_checks_before_loading_the_model(settings_of, replay: None) -> None:
    with pytest.raises(AssembleError, match="unknown code prompt"):
        assemble.build_agent(settings_of(model="nonsense", prompt="nope"), chat=False)
    with pytest.raises(AssembleError, match="unknown sandbox backend"):
        assemble.build_agent(settings_of(env={"CODEACT_SANDBOX": "x"}), chat=False)


class Resources(ExitStack):
    """An ExitStack that remembers what was registered on it."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: list[object] = []

    def callback(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.registered.append(fn)
        return super().callback(fn, *args, **kwargs)


def test_build_agent_closes_mcp_connections_with_its_resources(settings_of,
                                                              replay: None) -> None:
    s = settings_of(model="replay:small", mcp=[STDIO_SPEC], kernel_env="self")
    with Resources() as resources:
        agent = assemble.build_agent(s, chat=True, resources=resources)
        agent.close()
        assert "add" in {t.name for t in agent.tools}
    [close] = resources.registered
    assert getattr(close, "__name__", "") == "close"  # the MCP manager's, run on exit
