"""Prompts as files: variants by name, files by path, stable hashes, clear errors."""

import pytest

from codeact.prompts import PromptError, load_prompt, part, variants


def test_shipped_variants():
    assert {"default", "tools-example", "v0"} <= set(variants("code"))
    assert variants("json") == ["default"] and variants("text") == ["default"]
    assert variants("no-such-format") == []


def test_default_and_hash_are_stable():
    a, b = load_prompt(None, "code"), load_prompt("default", "code")
    assert a == b and a.name == "default"
    assert len(a.sha) == 12 and a.sha != load_prompt("v0", "code").sha


def test_hash_covers_the_shared_tools_section(tmp_path):
    with_tools, without = tmp_path / "a.md", tmp_path / "b.md"
    with_tools.write_text("Hi\n{tools}\n<solution>")
    without.write_text("Hi\n<solution>")
    a, b = load_prompt(str(with_tools), "code"), load_prompt(str(without), "code")
    assert a.shared == part("code", "tools") and b.shared == ""
    assert a.sha != load_prompt(str(with_tools), "json").sha  # json has no shared section
    from codeact.prompts import Prompt
    assert a.sha != Prompt(a.name, a.template, a.shared + "edited").sha


def test_render_places_tools_and_keeps_braces():
    prompt = load_prompt("tools-example", "code")
    text = prompt.render("TOOLS-HERE")
    assert "TOOLS-HERE" in text and "{tools}" not in text
    assert "{stubs}" in part("code", "tools")


def test_every_variant_has_a_tools_mark_and_documents_answers():
    for fmt in ("code", "json", "text"):
        for name in variants(fmt):
            text = load_prompt(name, fmt).template
            assert "{tools}" in text, (fmt, name)
            assert "<solution>" in text, (fmt, name)
    for name in ("default", "tools-example", "chat"):
        assert "final_answer(" in load_prompt(name, "code").template


def test_prompt_from_a_file(tmp_path):
    f = tmp_path / "mine.md"
    f.write_text("Be brief.\n{tools}\nAnswer in <solution></solution>.")
    prompt = load_prompt(str(f), "code")
    assert prompt.name == str(f) and prompt.render("") .startswith("Be brief.")


def test_errors_are_one_clear_line(tmp_path):
    with pytest.raises(PromptError, match="unknown code prompt 'nope'.*default"):
        load_prompt("nope", "code")
    with pytest.raises(PromptError, match="cannot read prompt file"):
        load_prompt(str(tmp_path / "missing.md"), "code")
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    with pytest.raises(PromptError, match="is empty"):
        load_prompt(str(empty), "code")
