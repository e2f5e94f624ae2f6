"""Reading CodeActInstruct / messages / ShareGPT files and mixing them."""

from __future__ import annotations

import json

import pytest
from train_helpers import write_codeact_jsonl, write_general_jsonl

from codeact.train.data import DataError, load_file, mix, normalize_messages, parse_mix


def test_codeact_instruct_schema_loads(tmp_path):
    examples, skipped = load_file(write_codeact_jsonl(tmp_path / "d.jsonl", 5))
    assert len(examples) == 5 and not skipped
    assert examples[0].id == "math/mul/0/teacher/code"
    assert [m["role"] for m in examples[0].messages] == [
        "system", "user", "assistant", "user", "assistant"]


def test_sharegpt_and_tool_roles_are_normalised():
    msgs = normalize_messages([
        {"from": "human", "value": "hi"},
        {"from": "gpt", "value": "<execute>1</execute>"},
        {"from": "observation", "value": "1"},
        {"from": "tool", "value": "more"},
        {"from": "gpt", "value": "done"},
    ])
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[2]["content"] == "1\n\nmore"  # consecutive user turns joined


def test_bad_lines_are_skipped_with_reasons(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path.write_text("\n".join([
        json.dumps(good), "{not json", json.dumps({"text": "no conversation"}),
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),
        json.dumps({"messages": [{"role": "wizard", "content": "?"}]}),
    ]) + "\n")
    examples, skipped = load_file(path)
    assert len(examples) == 1
    assert len(skipped) == 4
    assert any("not valid JSON" in s for s in skipped)
    assert any("no assistant turn" in s for s in skipped)
    assert any("unknown role 'wizard'" in s for s in skipped)
    with pytest.raises(DataError, match="not valid JSON"):
        load_file(path, skip_bad=False)


def test_missing_or_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_file(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no usable conversations"):
        load_file(tmp_path / "empty.jsonl")


def test_mix_ratio_is_the_share_of_the_final_set(tmp_path):
    main, _ = load_file(write_codeact_jsonl(tmp_path / "d.jsonl", 21))
    general, _ = load_file(write_general_jsonl(tmp_path / "g.jsonl", 4))
    mixed, counts = mix(main, [(general, 0.3)], seed=1)
    assert counts["main"] == 21
    n_general = counts[str(tmp_path / "g.jsonl")]
    assert n_general == 9  # 9 / 30 = 0.3; the 4 general examples are repeated
    assert len(mixed) == 30
    again, _ = mix(main, [(general, 0.3)], seed=1)
    assert [e.id for e in again] == [e.id for e in mixed]  # seeded


def test_parse_mix_errors():
    assert parse_mix("a/b.jsonl:0.25")[1] == 0.25
    for bad in ("g.jsonl", "g.jsonl:x", "g.jsonl:1.5", "g.jsonl:0"):
        with pytest.raises(DataError):
            parse_mix(bad)
    with pytest.raises(DataError, match="sum < 1"):
        mix([], [([], 0.6), ([], 0.5)])
