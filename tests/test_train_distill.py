"""Self-distillation: the base answers general prompts; output resumes and filters."""

from __future__ import annotations

import json

import pytest

from codeact.llm.scripted import ScriptedLLM
from codeact.train.data import load_file
from codeact.train.distill import (
    DistillError,
    default_prompts_path,
    load_prompts,
    self_distill,
)


def test_shipped_prompt_list_loads():
    prompts = load_prompts(default_prompts_path())
    assert len(prompts) >= 50
    assert not any(p.startswith("#") for p in prompts)


def test_prompts_from_jsonl_and_errors(tmp_path):
    p = tmp_path / "p.jsonl"
    p.write_text('{"prompt": "a"}\n{"instruction": "b"}\n')
    assert load_prompts(p) == ["a", "b"]
    p.write_text('{"text": "a"}\n')
    with pytest.raises(DistillError, match="no 'prompt'"):
        load_prompts(p)
    with pytest.raises(DistillError, match="not found"):
        load_prompts(tmp_path / "missing.txt")


def test_writes_trainable_conversations_and_resumes(tmp_path):
    out = tmp_path / "general.jsonl"
    stats = self_distill(ScriptedLLM(["Blue.", "", "Green."], name="base"),
                         ["Colour?", "Empty?", "Another?"], out)
    assert stats["written"] == 2 and stats["dropped_empty"] == 1
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["messages"][-1] == {"role": "assistant", "content": "Blue."}
    examples, skipped = load_file(out)  # the trainer reads it as general data
    assert len(examples) == 2 and not skipped
    again = self_distill(ScriptedLLM(["Red."], name="base"),
                         ["Colour?", "Empty?", "Another?"], out)
    assert again["skipped_done"] == 2 and again["written"] == 1  # only "Empty?" retried
    assert again["dropped_empty"] == 0 and len(out.read_text().splitlines()) == 3


def test_long_answers_are_kept_whole_and_rambling_is_dropped(tmp_path):
    """A reply longer than the agent's limit is kept when it ends within the long budget
    (the base's long answers stay in the mix); one that never ends, or loops, is not. Each
    prompt is asked once, with the long budget."""
    long_answer = " ".join(f"w{i}" for i in range(700))  # about 900 tokens, then it ends
    never_ends = " ".join(f"v{i}" for i in range(9000))  # past 2,048 tokens, no loop
    replies = {"short?": "Yes.", "long?": long_answer, "ramble?": never_ends,
               "loop?": "Intro. " + "Chapel Row, " * 3000}

    class Budgets(ScriptedLLM):
        budgets: list[int] = []

        def _raw_stream(self, messages, request):
            self.budgets.append(request.max_tokens)
            return super()._raw_stream(messages, request)

    llm = Budgets(lambda messages: replies[messages[-1]["content"]])
    out = tmp_path / "o.jsonl"
    stats = self_distill(llm, ["short?", "long?", "ramble?", "loop?"], out)
    assert llm.budgets == [2048] * 4
    assert stats["written"] == 2 and stats["kept_long"] == 1
    assert stats["dropped_cut_off"] == 1 and stats["dropped_looping"] == 1
    answers = [json.loads(x)["messages"][-1]["content"] for x in out.read_text().splitlines()]
    assert answers == ["Yes.", long_answer]
    llm.budgets.clear()
    stats = self_distill(llm, ["long?"], tmp_path / "drop.jsonl", long_tokens=0)
    assert llm.budgets == [512] and stats["dropped_cut_off"] == 1 and stats["written"] == 0
