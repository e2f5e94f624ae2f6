"""Settings with one precedence rule: CLI flags, then environment variables, then the
config file (``~/.config/codeact/config.toml``), then defaults."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from codeact.actions import format_names
from codeact.errors import CodeactError
from codeact.paths import default_config_path


class ConfigError(CodeactError, ValueError):
    """A config file or variable is broken; the message names the file/variable and line."""


@dataclass
class Settings:
    """Everything a run needs to know; ``sources`` says where each value came from."""

    model: str = "qwen2.5-coder-1.5b"
    base_url: str | None = None
    api_key: str | None = None
    max_turns: int = 10
    action_format: str = "code"
    exec_timeout: float = 60.0
    max_new_tokens: int = 1024
    temperature: float = 0.0
    seed: int | None = None  # of sampled replies; None: a new one per agent (recorded)
    n_ctx: int = 8192
    context_window: int | None = None
    prompt: str | None = None
    n_threads: int | None = None
    workspace: str | None = None
    tools: list[str] = field(default_factory=list)
    mcp: list[str] = field(default_factory=list)  # MCP servers: command lines or URLs
    sandbox: str = "bwrap"  # a registered sandbox backend (runtime/sandboxes)
    unsafe_no_sandbox: bool = False  # the loud alias of sandbox = "none"
    kernel_env: str | None = None
    # kernels on Jupyter Kernel/Enterprise Gateways instead of this machine (runtime/gateway)
    runtime: list[str] = field(default_factory=list)  # gateway URLs (sandbox "gateway")
    runtime_token: str | None = None  # the gateways' token (Authorization: token ...)
    runtime_kernel: str = "codeact"  # the kernelspec started on the gateway (sandboxed:
    # what `codeact kernelspec install` writes; others need --unsafe-no-sandbox)
    packages: str = "allow"
    packages_allow: list[str] = field(default_factory=list)
    packages_deny: list[str] = field(default_factory=list)
    packages_max_mb: int = 200
    packages_persist: bool = False
    resample: int = 2  # tries to replace a reply that repeats an action that already ran
    samples: int = 1  # independent runs per task, the answer chosen by majority
    sample_temperature: float = 0.7  # the temperature of those runs (samples > 1)
    sample_all: bool = False  # make all K runs even after the vote is decided
    hints_off: list[str] = field(default_factory=list)  # agent hints switched off by name
    hints_on: list[str] = field(default_factory=list)  # hints off by default, switched on
    ablate: list[str] = field(default_factory=list)  # agent mechanisms off (agent.ABLATIONS)
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)


# Environment variables and the setting each one feeds.
ENV_VARS: dict[str, str] = {
    "CODEACT_MODEL": "model",
    "OPENAI_BASE_URL": "base_url",
    "OPENAI_API_KEY": "api_key",
    "CODEACT_MAX_TURNS": "max_turns",
    "CODEACT_FORMAT": "action_format",
    "CODEACT_EXEC_TIMEOUT": "exec_timeout",
    "CODEACT_MAX_NEW_TOKENS": "max_new_tokens",
    "CODEACT_TEMPERATURE": "temperature",
    "CODEACT_SEED": "seed",
    "CODEACT_N_CTX": "n_ctx",
    "CODEACT_CONTEXT_WINDOW": "context_window",
    "CODEACT_PROMPT": "prompt",
    "CODEACT_N_THREADS": "n_threads",
    "CODEACT_WORKSPACE": "workspace",
    "CODEACT_TOOLS": "tools",
    "CODEACT_MCP": "mcp",  # ';'-separated: a command line may contain commas
    "CODEACT_SANDBOX": "sandbox",
    "CODEACT_KERNEL_ENV": "kernel_env",
    "CODEACT_RUNTIME": "runtime",  # comma-separated gateway URLs
    "CODEACT_RUNTIME_TOKEN": "runtime_token",
    "CODEACT_RUNTIME_KERNEL": "runtime_kernel",
    "CODEACT_PACKAGES": "packages",
    "CODEACT_PACKAGES_ALLOW": "packages_allow",
    "CODEACT_PACKAGES_DENY": "packages_deny",
    "CODEACT_PACKAGES_MAX_MB": "packages_max_mb",
    "CODEACT_PACKAGES_PERSIST": "packages_persist",
    "CODEACT_RESAMPLE": "resample",
    "CODEACT_SAMPLES": "samples",
    "CODEACT_SAMPLE_TEMPERATURE": "sample_temperature",
    "CODEACT_SAMPLE_ALL": "sample_all",
    "CODEACT_HINTS_OFF": "hints_off",
    "CODEACT_HINTS_ON": "hints_on",
    "CODEACT_ABLATE": "ablate",
}

_SETTING_FIELDS = {f.name: f for f in fields(Settings) if f.name != "sources"}
_ENV_OF = {name: var for var, name in ENV_VARS.items()}


def _convert(name: str, value: Any, origin: str) -> Any:
    """Check and convert one value to the setting's type, naming ``origin`` on failure."""
    kind = _SETTING_FIELDS[name].type
    try:
        if kind == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                return low in ("1", "true", "yes")
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind in ("int", "int | None"):
            if isinstance(value, bool) or isinstance(value, float):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "list[str]":
            if isinstance(value, str):
                sep = ";" if name == "mcp" else ","
                return [v.strip() for v in value.split(sep) if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(value)
            return list(value)
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError):
        expected = kind.replace(" | None", "").replace("list[str]", "list of strings")
        raise ConfigError(f"{origin}: {name} must be {expected}, got {value!r}") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse and check a TOML config file; errors name the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = str(exc)
        if "at end of document" in where:
            where = where.replace("at end of document",
                                  f"at line {max(1, len(text.splitlines()))}, end of file")
        raise ConfigError(f"config file {path} is not valid TOML: {where}") from None
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _SETTING_FIELDS:
            line = _line_of(text, key)
            known = ", ".join(sorted(_SETTING_FIELDS))
            raise ConfigError(f"{path}, line {line}: unknown setting {key!r} "
                              f"(known settings: {known})")
        result[key] = _convert(key, value, f"{path}, line {_line_of(text, key)}")
    return result


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(key) and "=" in line:
            return number
    return 1


def _apply(settings: Settings, values: Mapping[str, Any], source: str | None) -> None:
    """Set one layer's values (``source`` None: each from its environment variable).

    ``unsafe_no_sandbox = true`` is the loud spelling of ``sandbox = "none"``: it sets
    ``sandbox``, and a higher layer's other ``sandbox`` turns it off again (so it stays
    true only while the alias is what chose the sandbox); the two contradicting each other
    in one layer is an error."""
    def origin(name: str) -> str:
        return source if source is not None else "$" + _ENV_OF.get(name, name)

    if values.get("unsafe_no_sandbox") and values.get("sandbox", "none") != "none":
        raise ConfigError(f"{origin('sandbox')}: unsafe_no_sandbox means sandbox 'none', "
                          f"which contradicts sandbox {values['sandbox']!r}")
    for name, value in values.items():
        setattr(settings, name, value)
        settings.sources[name] = origin(name)
    if values.get("unsafe_no_sandbox"):
        settings.sandbox, settings.sources["sandbox"] = "none", origin("unsafe_no_sandbox")
    elif values.get("sandbox", "none") != "none":
        settings.unsafe_no_sandbox = False
        settings.sources["unsafe_no_sandbox"] = origin("sandbox")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Merge defaults < config file < environment < ``overrides`` (CLI flags; None
    values mean "not given")."""
    env = os.environ if env is None else env
    path = config_path if config_path is not None else default_config_path()
    settings = Settings()
    for name in _SETTING_FIELDS:
        settings.sources[name] = "default"
    _apply(settings, read_config_file(path), str(path))
    _apply(settings, {name: _convert(name, env[var], f"environment variable {var}")
                      for var, name in ENV_VARS.items() if env.get(var)}, None)
    given = {name: value for name, value in (overrides or {}).items() if value is not None}
    for name, value in given.items():
        if name not in _SETTING_FIELDS:
            raise ConfigError(f"unknown setting {name!r}")
        given[name] = _convert(name, value, f"option --{name.replace('_', '-')}")
    _apply(settings, given, "command line")
    known = format_names()
    if settings.action_format not in known:
        choices = " or ".join([", ".join(known[:-1]), known[-1]] if len(known) > 1 else known)
        raise ConfigError(f"{settings.sources['action_format']}: action_format must be "
                          f"{choices}, got {settings.action_format!r}")
    if settings.packages not in ("allow", "deny", "ask"):
        raise ConfigError(f"{settings.sources['packages']}: packages must be allow, deny or "
                          f"ask, got {settings.packages!r}")
    if settings.max_turns < 1:
        raise ConfigError(f"{settings.sources['max_turns']}: max_turns must be at least 1")
    if settings.resample < 0:
        raise ConfigError(f"{settings.sources['resample']}: resample must be at least 0")
    if settings.samples < 1:
        raise ConfigError(f"{settings.sources['samples']}: samples must be at least 1")
    return settings
