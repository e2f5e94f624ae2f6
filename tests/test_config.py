"""Config precedence (flags > env > file > defaults) and clear errors for broken files."""

import pytest

from codeact.config import ConfigError, load_settings, read_config_file


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults(tmp_path):
    s = load_settings(env={}, config_path=tmp_path / "missing.toml")
    assert s.model == "qwen2.5-coder-1.5b" and s.max_turns == 10
    assert s.sources["model"] == "default"


def test_precedence(tmp_path):
    path = write(tmp_path, 'model = "smollm2-135m"\nmax_turns = 4\ntemperature = 0.5\n'
                           'tools = ["a:b"]\n')
    env = {"CODEACT_MODEL": "openai:gpt", "CODEACT_MAX_TURNS": "6"}
    s = load_settings({"max_turns": 8, "model": None}, env=env, config_path=path)
    assert s.model == "openai:gpt" and s.sources["model"] == "$CODEACT_MODEL"
    assert s.max_turns == 8 and s.sources["max_turns"] == "command line"
    assert s.temperature == 0.5 and s.sources["temperature"] == str(path)
    assert s.tools == ["a:b"]


def test_env_lists_and_bools(tmp_path):
    s = load_settings(env={"CODEACT_TOOLS": "a:b, c:d", "OPENAI_BASE_URL": "http://x/v1"},
                      config_path=tmp_path / "none.toml")
    assert s.tools == ["a:b", "c:d"] and s.base_url == "http://x/v1"


def test_broken_toml_names_file_and_line(tmp_path):
    path = write(tmp_path, 'model = "a"\nmax_turns = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, config_path=path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_unknown_key_names_line(tmp_path):
    path = write(tmp_path, 'model = "a"\n\nmodle = "b"\n')
    with pytest.raises(ConfigError, match=r"line 3: unknown setting 'modle'"):
        read_config_file(path)


def test_wrong_type_in_file(tmp_path):
    path = write(tmp_path, 'max_turns = "many"\n')
    with pytest.raises(ConfigError, match=r"line 1: max_turns must be int"):
        read_config_file(path)


def test_bad_env_value_names_variable(tmp_path):
    with pytest.raises(ConfigError, match="environment variable CODEACT_MAX_TURNS"):
        load_settings(env={"CODEACT_MAX_TURNS": "ten"}, config_path=tmp_path / "x.toml")


def test_bad_format_and_turns(tmp_path):
    with pytest.raises(ConfigError, match="action_format must be code, json or text"):
        load_settings({"action_format": "yaml"}, env={}, config_path=tmp_path / "x.toml")
    with pytest.raises(ConfigError, match="at least 1"):
        load_settings({"max_turns": 0}, env={}, config_path=tmp_path / "x.toml")


def test_config_path_from_env(tmp_path, monkeypatch):
    path = write(tmp_path, 'model = "from-env-path"\n')
    monkeypatch.setenv("CODEACT_CONFIG", str(path))
    monkeypatch.delenv("CODEACT_MODEL", raising=False)
    assert load_settings().model == "from-env-path"


def test_mcp_servers_from_file_and_env(tmp_path):
    path = write(tmp_path, 'mcp = ["npx -y @modelcontextprotocol/server-everything", '
                           '"http://127.0.0.1:9000/mcp"]\n')
    s = load_settings(env={}, config_path=path)
    assert s.mcp == ["npx -y @modelcontextprotocol/server-everything",
                     "http://127.0.0.1:9000/mcp"]
    # ';' separates servers in the variable: a command line may contain commas
    s = load_settings(env={"CODEACT_MCP": "srv --tags a,b ; http://h/mcp"}, config_path=path)
    assert s.mcp == ["srv --tags a,b", "http://h/mcp"] and s.sources["mcp"] == "$CODEACT_MCP"


def test_sandbox_from_each_layer_and_the_unsafe_alias(tmp_path):
    none = tmp_path / "none.toml"
    assert load_settings(env={}, config_path=none).sandbox == "bwrap"
    s = load_settings(env={"CODEACT_SANDBOX": "none"}, config_path=none)
    assert s.sandbox == "none" and s.sources["sandbox"] == "$CODEACT_SANDBOX"
    assert not s.unsafe_no_sandbox  # the alias was not used
    # the alias is sandbox "none", from wherever it was set
    path = write(tmp_path, "unsafe_no_sandbox = true\n")
    s = load_settings(env={}, config_path=path)
    assert s.sandbox == "none" and s.unsafe_no_sandbox and s.sources["sandbox"] == str(path)
    # a higher layer's sandbox overrides a lower layer's alias, and turns it off
    s = load_settings({"sandbox": "bwrap"}, env={}, config_path=path)
    assert s.sandbox == "bwrap" and not s.unsafe_no_sandbox
    s = load_settings({"unsafe_no_sandbox": True}, env={"CODEACT_SANDBOX": "bwrap"},
                      config_path=none)
    assert s.sandbox == "none" and s.sources["sandbox"] == "command line"


def test_sandbox_and_alias_contradicting_in_one_layer(tmp_path):
    with pytest.raises(ConfigError, match="command line: unsafe_no_sandbox means sandbox "
                                          "'none', which contradicts sandbox 'bwrap'"):
        load_settings({"sandbox": "bwrap", "unsafe_no_sandbox": True}, env={},
                      config_path=tmp_path / "none.toml")
    path = write(tmp_path, 'sandbox = "none"\nunsafe_no_sandbox = true\n')
    assert load_settings(env={}, config_path=path).sandbox == "none"  # agreeing is fine
