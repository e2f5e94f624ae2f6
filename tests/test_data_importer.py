"""Importing CodeActInstruct, OpenAI-messages and ShareGPT JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeact.data import importer
from codeact.data.export import METADATA_KEYS

CODEACT = {"id": "reasoning/math/123/gpt-4-0613/max5_p2+tool+cd",
           "conversations": [{"role": "system", "content": "s"},
                             {"role": "user", "content": "q"},
                             {"role": "assistant", "content": "<execute>1</execute>"},
                             {"role": "user", "content": "Observation: 1"},
                             {"role": "assistant", "content": "<solution>1</solution>"}]}
MESSAGES = {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": "hello"}]}
SHAREGPT = {"id": "sg1", "conversations": [{"from": "system", "value": "be nice"},
                                           {"from": "human", "value": "hi"},
                                           {"from": "gpt", "value": "hello"}]}


def _file(tmp_path: Path, rows: list) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    return p


def test_auto_detects_each_form(tmp_path: Path) -> None:
    out = importer.import_file(_file(tmp_path, [CODEACT, MESSAGES, SHAREGPT]))
    assert [r["id"] for r in out] == [CODEACT["id"], "in/2", "sg1"]
    assert out[0]["conversations"] == CODEACT["conversations"]
    assert out[0]["metadata"]["family"] == "reasoning"
    assert out[0]["metadata"]["teacher"] == "gpt-4-0613"
    assert out[2]["conversations"] == [{"role": "system", "content": "be nice"},
                                       {"role": "user", "content": "hi"},
                                       {"role": "assistant", "content": "hello"}]
    for r in out:
        assert set(r["metadata"]) == set(METADATA_KEYS)
        assert r["metadata"]["source_type"] == "imported"
        assert r["metadata"]["source"] == "in"


def test_source_name_and_forced_kind(tmp_path: Path) -> None:
    out = importer.import_file(_file(tmp_path, [SHAREGPT]), kind="sharegpt", source="mix")
    assert out[0]["metadata"]["source"] == "mix"
    with pytest.raises(ValueError, match="in.jsonl:1"):
        importer.import_file(_file(tmp_path, [SHAREGPT]), kind="messages")


@pytest.mark.parametrize("row,message", [
    ({"text": "x"}, "neither 'messages' nor"),
    ({"messages": [{"role": "user", "content": "only a question"}]}, "no assistant turn"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "role 'wizard'"),
    ({"conversations": [{"from": "alien", "value": "x"}]}, "unknown speaker"),
])
def test_bad_lines_are_named(tmp_path: Path, row: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        importer.import_file(_file(tmp_path, [row]))


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        importer.import_file(_file(tmp_path, [MESSAGES]), kind="xml")
