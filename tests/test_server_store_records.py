"""Tests for codeact.server.store.records: the store's dicts and the API's response models
(routes/models.py) have the same fields, and a record goes through its model unchanged
(so declaring the models changed no answer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from codeact.runtime.observation import ExecutionError, Observation
from codeact.server.routes import models
from codeact.server.store import Store, records

PAIRS: list[tuple[Any, type[BaseModel]]] = [
    (records.ConversationRecord, models.Conversation),
    (records.MessageMatch, models.MessageMatch),
    (records.ErrorRecord, models.ErrorInfo),
    (records.ObservationRecord, models.Observation),
    (records.MessageItem, models.MessageItem),
    (records.CodeItem, models.CodeItem),
    (records.FileRecord, models.FileInfo),
    (records.BranchRecord, models.BranchInfo),
]


@pytest.mark.parametrize(("record", "model"), PAIRS, ids=[m.__name__ for _, m in PAIRS])
def test_each_record_and_its_model_have_the_same_fields(record: Any,
                                                        model: type[BaseModel]) -> None:
    assert record.__required_keys__ == set(model.model_fields)


def test_search_hits_are_conversations_with_a_match() -> None:
    assert records.SearchHit.__required_keys__ | {"running"} == set(
        models.SearchResult.model_fields)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "records.db")
    yield s
    s.close()


def same(model: type[BaseModel], record: Any) -> None:
    """``record`` validates as ``model`` and comes back as the same JSON value."""
    assert model.model_validate(record).model_dump(mode="json") == record


def test_store_records_go_through_their_models_unchanged(store: Store) -> None:
    conv = store.create_conversation("t", "m", {"temperature": 0.5})
    same(models.Conversation, conv)
    user = store.add_message(conv["id"], "user", "text", "plot")
    item, obs_id = store.add_code_action(conv["id"], "plot()", turn=1,
                                         message_id=user["id"])
    same(models.CodeItem, item)  # running, nothing printed yet
    store.finish_observation(obs_id, conv["id"], text="ValueError: bad", observation=Observation(
        stdout="1\n", result="2", images=[b"\x89PNG"], duration=0.25,
        error=ExecutionError("ValueError", "bad", "Traceback...")))
    store.fork(conv["id"], anchor_seq=user["seq"], fork_seq=user["seq"] + 1,
               kind="regenerate", history=[])
    for timeline_item in store.timeline(conv["id"], 0):
        same(models.CodeItem if timeline_item["type"] == "code" else models.MessageItem,
             timeline_item)
    for branch in store.branches(conv["id"]):
        same(models.BranchInfo, branch)
    same(models.FileInfo, store.upsert_file(conv["id"], "a.txt", 3))
    for hit in store.search("plot"):
        same(models.SearchResult, {**hit, "running": False})
