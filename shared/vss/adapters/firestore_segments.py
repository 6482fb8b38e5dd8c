"""Firestore repository of a task's fanned-out segments: `tasks/<id>/segments/<index>`.

Every change runs in one transaction over the segment and its task, so marking a segment done
and counting it on the task (the fan-in) happen together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from google.cloud import firestore

from vss.adapters.firestore_repos import TASKS, to_doc
from vss.domain.segments import Segment
from vss.domain.tasks import Task
from vss.errors import NotFound

SEGMENTS = "segments"


def _segment_id(index: int) -> str:
    return f"{index:05d}"  # zero-padded: the document ids sort in index order


class FirestoreSegmentRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._tasks = client.collection(TASKS)

    def _segments(self, task_id: str) -> firestore.CollectionReference:
        return self._tasks.document(task_id).collection(SEGMENTS)

    def put_new(self, task_id: str, segments: list[Segment]) -> None:
        collection = self._segments(task_id)
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

    def list_for_task(self, task_id: str) -> list[Segment]:
        snaps = self._segments(task_id).order_by("index").stream()
        return [Segment.model_validate(s.to_dict()) for s in snaps]

    def update(
        self, task_id: str, index: int,
        change: Callable[[Task, Segment], tuple[Task, Segment]],
    ) -> tuple[tuple[Task, Segment], tuple[Task, Segment]]:
        task_ref = self._tasks.document(task_id)
        segment_ref = self._segments(task_id).document(_segment_id(index))

        @firestore.transactional
        def apply(
            transaction: firestore.Transaction,
        ) -> tuple[tuple[Task, Segment], tuple[Task, Segment]]:
            task_snap = task_ref.get(transaction=transaction)
            segment_snap = segment_ref.get(transaction=transaction)
            if not task_snap.exists or not segment_snap.exists:
                raise NotFound(f"Segment {index} of task {task_id} does not exist.",
                               details={"task_id": task_id, "segment": index})
            task = Task.model_validate(task_snap.to_dict())
            segment = Segment.model_validate(segment_snap.to_dict())
            new_task, new_segment = change(task, segment)
            if new_task is not task:
                transaction.set(task_ref, to_doc(new_task))
            if new_segment is not segment:
                transaction.set(segment_ref, to_doc(new_segment))
            return (task, segment), (new_task, new_segment)

        return apply(self._db.transaction())
