"""Payloads Firestore cannot store are a 400 with a JSON pointer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fakes import fake_deps
from tests.support.tasks import valid_dataset
from vss.domain.storable import MAX_DEPTH, MAX_FIELD_NAME_BYTES, storable_errors
from vss.errors import BadRequest
from vss.service import tasks


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def test_what_firestore_refuses_is_pointed_at():
    assert storable_errors({"a": {"": 1}}, "/payload") == [
        {"pointer": "/payload/a/", "reason": "an empty key cannot be stored"}]
    (long,) = storable_errors({"x" * (MAX_FIELD_NAME_BYTES + 1): 1})
    assert long["pointer"] == "/" + "x" * (MAX_FIELD_NAME_BYTES + 1)
    assert storable_errors(_nested(MAX_DEPTH)) == []
    (deep,) = storable_errors(_nested(MAX_DEPTH + 1))
    assert deep["pointer"] == "/k" * MAX_DEPTH and "deeper" in deep["reason"]
    (big,) = storable_errors({"text": "x" * 300_000})
    assert big["pointer"] == "" and "bytes of JSON" in big["reason"]
    assert storable_errors({"a/b": {"~": []}}) == []


@pytest.mark.parametrize("service_params", [
    {"": 1}, {"rag_top_k": 50, "nested": _nested(MAX_DEPTH + 1)},
])
def test_a_payload_firestore_cannot_store_is_a_400(blueprint_bytes: bytes,
                                                    service_params: dict[str, Any]):
    deps = fake_deps()
    path = valid_dataset(deps, blueprint_bytes)
    body = tasks.CreateTask(task_type="GENERATE_NARRATION", payload={
        "blueprint_path": path, "service_params": service_params})
    with pytest.raises(BadRequest) as caught:
        tasks.create_task(deps, "t1", body)
    assert caught.value.details["errors"][0]["pointer"].startswith("/payload/service_params/")
    assert deps.tasks.list_for_tenant("t1", limit=5, after=None) == ([], None)


def test_the_edges_extra_keys_still_work(blueprint_bytes: bytes):
    deps = fake_deps()
    path = valid_dataset(deps, blueprint_bytes)
    task = tasks.create_task(deps, "t1", tasks.CreateTask(task_type="GENERATE_NARRATION", payload={
        "blueprint_path": path, "service_params": {"rag_top_k": 50, "debug": True}}))
    assert task.status == "PENDING"
