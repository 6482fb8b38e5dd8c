"""Firestore records kept for the operations console: the dead letters the dead_letter function
received, and each function's latest start."""

from __future__ import annotations

from datetime import datetime

from google.api_core import exceptions as gexc
from google.cloud import firestore

from vss.adapters import permissions
from vss.adapters.firestore_repos import to_doc
from vss.domain.dead_letters import DeadLetter
from vss.domain.function_starts import FunctionStart

# One document per dead letter, by `dead_letter_id`; `expire_at` is its TTL field
# (infra/terraform/main.tf `firestore_ttl`).
DEAD_LETTERS = "dead_letters"
# One document per function, by name: its latest start (no TTL: a handful of documents).
FUNCTION_STARTS = "function_starts"
# A starting function waits on its start record: one attempt, this long at most.
START_TIMEOUT_SECONDS = 5.0


class FirestoreDeadLetterLog:
    """Written once (`create`), never changed: a redelivered dead letter finds its record."""

    def __init__(self, client: firestore.Client) -> None:
        self._letters = client.collection(DEAD_LETTERS)

    def record(self, letter: DeadLetter) -> bool:
        permissions.datastore("create")
        try:
            self._letters.document(letter.id).create(to_doc(letter))
        except gexc.AlreadyExists:
            return False
        return True

    def since(self, at: datetime, *, limit: int) -> list[DeadLetter]:
        permissions.datastore("list")
        # A range and an ordering on one field: its automatic single-field index serves it.
        query = self._letters.where(
            filter=firestore.FieldFilter("received_at", ">=", at)
        ).order_by("received_at", direction=firestore.Query.DESCENDING)
        return [DeadLetter.model_validate(s.to_dict()) for s in query.limit(limit).stream()]


class FirestoreFunctionStarts:
    def __init__(self, client: firestore.Client) -> None:
        self._starts = client.collection(FUNCTION_STARTS)

    def record(self, start: FunctionStart) -> None:
        permissions.datastore("create", "update")
        self._starts.document(start.function).set(
            to_doc(start), retry=None, timeout=START_TIMEOUT_SECONDS)

    def latest(self) -> list[FunctionStart]:
        permissions.datastore("list")
        return [FunctionStart.model_validate(s.to_dict()) for s in self._starts.stream()]
