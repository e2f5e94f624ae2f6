"""System prompts as data: one file per action format and variant.

``src/codeact/prompts/<format>/<variant>.md`` holds the prompt of one variant;
``{tools}`` marks where the tools section goes, ``{example}`` where a worked example goes:
the code format fills it from ``_example.md``, or from ``_example-tools.md`` when the run
has tools (seen with a 1.5B model: given only the arithmetic example, it opened tool
tasks with ``found = [n for n in range(1, 100) if n == 210]``).
``load_prompt("tools-example", "code")`` picks a variant by name,
``load_prompt("./my_prompt.md", "code")`` reads any file. Every trajectory
and benchmark result records the variant's name and a hash of its text, so two
prompts can be compared from one results file.

The json and text formats keep one frozen prompt each (``default``) so the comparison
between formats stays fair; ``--prompt`` applies to the code format.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from codeact.errors import CodeactError

__all__ = [
    "DEFAULT_VARIANT",
    "SUFFIX",
    "EXAMPLE_MARK",
    "TOOLS_MARK",
    "Prompt",
    "PromptError",
    "load_prompt",
    "part",
    "variants",
]

DEFAULT_VARIANT = "default"
TOOLS_MARK = "{tools}"
EXAMPLE_MARK = "{example}"
EXAMPLES = ("example", "example-tools")  # the worked examples {example} is filled from
SUFFIX = ".md"


class PromptError(CodeactError, ValueError):
    """An unknown variant or an unreadable prompt file (one clear line)."""


@dataclass(frozen=True)
class Prompt:
    """A system-prompt template: its name, the text, and a short hash of the text."""

    name: str
    template: str
    shared: str = ""  # the shared parts it is rendered with (the tools section's text)

    @property
    def sha(self) -> str:
        """First 12 hex digits of the SHA-256 of the template and the shared parts it
        uses: the results key (editing ``_tools.md`` changes every variant's key)."""
        text = self.template + ("\0" + self.shared if self.shared else "")
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def render(self, tools_section: str, example: str = "") -> str:
        """The prompt with its tools section and worked example in place (plain
        replacement: braces in the prompt's own text, such as dicts in examples, need no
        escaping)."""
        text = self.template.replace(TOOLS_MARK, tools_section)
        return text.replace(EXAMPLE_MARK, example.rstrip("\n")).rstrip("\n")


def _folder(action_format: str):  # -> importlib.resources Traversable
    return resources.files(__name__).joinpath(action_format)


def variants(action_format: str = "code") -> list[str]:
    """Names of the shipped variants of a format's prompt."""
    folder = _folder(action_format)
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(SUFFIX)] for p in folder.iterdir()
                  if p.name.endswith(SUFFIX) and not p.name.startswith("_"))


def part(action_format: str, name: str) -> str:
    """A shared piece of a format's prompts (files starting with ``_``), e.g. the code
    format's tools section."""
    return _folder(action_format).joinpath(f"_{name}{SUFFIX}").read_text(encoding="utf-8")


def _shared(action_format: str, template: str) -> str:
    """The text of the shared parts the template places (tools section, examples), for
    the hash."""
    names = (["tools"] if TOOLS_MARK in template else []) + \
        (list(EXAMPLES) if EXAMPLE_MARK in template else [])
    files = [_folder(action_format).joinpath(f"_{name}{SUFFIX}") for name in names]
    return "\0".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


def load_prompt(spec: str | None = None, action_format: str = "code") -> Prompt:
    """A shipped variant by name (None: ``default``), or a prompt file by path."""
    spec = spec or DEFAULT_VARIANT
    if spec in variants(action_format):
        text = _folder(action_format).joinpath(spec + SUFFIX).read_text(encoding="utf-8")
        return Prompt(spec, text, _shared(action_format, text))
    path = Path(spec).expanduser()
    if path.suffix or "/" in spec or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PromptError(f"cannot read prompt file {path}: {exc}") from None
        if not text.strip():
            raise PromptError(f"prompt file {path} is empty")
        return Prompt(str(path), text, _shared(action_format, text))
    known = ", ".join(variants(action_format)) or "none"
    raise PromptError(f"unknown {action_format} prompt {spec!r}: use one of {known}, "
                      "or a path to a prompt file")
