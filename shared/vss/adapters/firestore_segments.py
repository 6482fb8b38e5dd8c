"""Firestore repository of a task's fanned-out segments:
`tasks/<id>/plans/<plan>/segments/<index>`, one folder per planning attempt, so a stale
planner's segments can never mix with the plan whose commit won.

A segment's document is written by its own attempts only (claim, heartbeats, finish), so
segments that finish at the same moment write different documents; the fan-in counts the done
ones with an aggregation query instead of a counter on the task's document, which Firestore
would serialise at about one write a second.

A segment changes by compare and set (a read, then a write on the condition that the document
is still the version read), not in a transaction: its only rivals are duplicate deliveries of
the same segment, and a conditional write holds no lock, so they cannot keep one another
waiting. Transactions did: on the emulator, four deliveries of one segment retrying their
claims at once aborted each other for as long as duplicates kept arriving (half an hour, until
the task's deadline), while the worker's every thread was busy with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery
from google.cloud.firestore_v1.base_query import FieldFilter

from vss.adapters import permissions
from vss.adapters.firestore_repos import TASKS, Versions, compare_and_set, to_doc
from vss.domain.leases import LeaseState
from vss.domain.segments import Segment
from vss.domain.tasks import Task
from vss.domain.usage import NO_USAGE, Usage
from vss.errors import NotFound

PLANS = "plans"
SEGMENTS = "segments"


def _segment_id(index: int) -> str:
    return f"{index:05d}"  # zero-padded: the document ids sort in index order


class FirestoreSegmentRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._tasks = client.collection(TASKS)
        self._versions = Versions()

    def _collection(self, task_id: str, plan: str) -> firestore.CollectionReference:
        return self._tasks.document(task_id).collection(PLANS).document(plan) \
            .collection(SEGMENTS)

    def _ref(self, task_id: str, plan: str, index: int) -> firestore.DocumentReference:
        return self._collection(task_id, plan).document(_segment_id(index))

    def put_new(self, task_id: str, plan: str, segments: list[Segment]) -> None:
        permissions.datastore("list", "create")
        collection = self._collection(task_id, plan)
        stored = {snap.id for snap in collection.select([]).stream()}
        batch = self._db.batch()
        pending = 0
        for segment in segments:
            if _segment_id(segment.index) in stored:
                continue
            batch.set(collection.document(_segment_id(segment.index)), to_doc(segment))
            pending += 1
            if pending == 400:  # a batch holds at most 500 writes
                batch.commit()
                batch, pending = self._db.batch(), 0
        if pending:
            batch.commit()

    def task_and_segment(self, task_id: str, plan: str, index: int
                         ) -> tuple[Task | None, Segment | None]:
        permissions.datastore("get")
        task_ref, ref = self._tasks.document(task_id), self._ref(task_id, plan, index)
        found = {snap.reference.path: snap for snap in self._db.get_all([task_ref, ref])}
        task_snap, snap = found.get(task_ref.path), found.get(ref.path)
        task = Task.model_validate(task_snap.to_dict()) \
            if task_snap is not None and task_snap.exists else None
        if snap is None or not snap.exists:
            return task, None
        fields = cast(dict[str, Any], snap.to_dict())
        # The version just read: the claim that follows is written on its condition.
        self._versions.put(ref.path, fields, snap.update_time)
        return task, Segment.model_validate(fields)

    def list_for_task(self, task_id: str, plan: str) -> list[Segment]:
        permissions.datastore("list")
        collection = self._collection(task_id, plan)
        return [Segment.model_validate(s.to_dict()) for s in collection.order_by("index").stream()]

    def update(
        self, task_id: str, plan: str, index: int, change: Callable[[Segment], Segment]
    ) -> tuple[Segment, Segment]:
        permissions.datastore("get", "update")
        return compare_and_set(
            self._db, self._ref(task_id, plan, index), Segment.model_validate, change,
            what=f"segment {index} of task {task_id}", missing=NotFound(
                f"Segment {index} of task {task_id} does not exist.",
                details={"task_id": task_id, "segment": index}), versions=self._versions)

    def spent_by_done(self, task_id: str, plan: str) -> Usage:
        permissions.datastore("list")
        # The usage field alone: a segment's request and output are most of its document.
        return sum((Usage.model_validate((snap.to_dict() or {}).get("usage") or {})
                    for snap in self._done(task_id, plan).select(["usage"]).stream()),
                   NO_USAGE)

    def count_done(self, task_id: str, plan: str) -> int:
        permissions.datastore("list")
        results = AggregationQuery(self._done(task_id, plan)).count(alias="done").get()
        return int(results[0][0].value)

    def _done(self, task_id: str, plan: str) -> firestore.Query:
        return self._collection(task_id, plan).where(
            filter=FieldFilter("state", "==", LeaseState.DONE.value))
