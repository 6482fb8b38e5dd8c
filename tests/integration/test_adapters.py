"""Adapters against the emulators: Firestore transactions, signed URLs, logging."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreTaskRepository
from vss.adapters.gcs import GcsBlobStore
from vss.domain import tasks as rules
from vss.domain.tasks import TaskType
from vss.errors import NotFound, RetryableError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def repo() -> FirestoreTaskRepository:
    settings = stack_settings()
    return FirestoreTaskRepository(firestore.Client(project=settings.project_id))


def _task(tenant: str = "t") -> rules.Task:
    return rules.new_task(
        task_id=uuid.uuid4().hex, tenant_id=tenant, task_type=TaskType.GENERATE_NARRATION,
        payload={"blueprint_path": "uploads/x/y.json"}, waiting_on=[],
        now=datetime.now(UTC), deadline=timedelta(minutes=5),
    )


def test_task_round_trips_through_firestore(repo: FirestoreTaskRepository):
    task = _task()
    repo.add(task)
    assert repo.get(task.id) == task


def test_a_task_carries_a_ttl_timestamp(repo: FirestoreTaskRepository):
    now = datetime.now(UTC)
    task = rules.new_task(
        task_id=uuid.uuid4().hex, tenant_id="t", task_type=TaskType.GENERATE_NARRATION,
        payload={}, waiting_on=[], now=now, deadline=timedelta(minutes=5),
        retention=timedelta(days=90),
    )
    repo.add(task)
    repo.update(task.id, lambda t: rules.cancel(t, datetime.now(UTC)))
    db = firestore.Client(project=stack_settings().project_id)
    task_doc = db.collection("tasks").document(task.id).get().to_dict()
    # TTL policies only act on Timestamp values, which the client returns as datetimes.
    assert isinstance(task_doc["expire_at"], datetime)
    assert task_doc["expire_at"] == now + timedelta(days=90)


def test_concurrent_claims_let_exactly_one_worker_run(repo: FirestoreTaskRepository):
    task = _task()
    repo.add(task)
    outcomes: list[str] = []
    gave_up: list[RetryableError] = []

    def worker() -> None:
        def take(t: rules.Task) -> rules.Task:
            decision = rules.claim_decision(t, t.current.stage, datetime.now(UTC))
            outcomes.append(decision)
            if decision != rules.StageClaim.RUN:
                return t
            return rules.claim(t, t.current.stage, uuid.uuid4().hex, datetime.now(UTC),
                               timedelta(minutes=1))

        try:
            repo.update(task.id, take)
        except RetryableError as exc:  # contention outlasted the retries: redelivered later
            gave_up.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = repo.get(task.id)
    assert final is not None and final.current.attempts == 1
    # Transactions retried on contention re-run `take`; the committed result is one claim.
    # Each other worker saw it (BUSY) or, when the emulator's lock timeouts outlast the
    # retries on a loaded machine, gave up with a retryable error (its message comes back).
    assert outcomes.count(rules.StageClaim.BUSY) + len(gave_up) >= 3
    assert len(gave_up) <= 3


def test_list_is_scoped_and_paginated(repo: FirestoreTaskRepository):
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    made = [_task(tenant) for _ in range(5)]
    for task in made:
        repo.add(task)
    page, token = repo.list_for_tenant(tenant, limit=3, after=None)
    rest, end = repo.list_for_tenant(tenant, limit=3, after=token)
    assert [t.id for t in page + rest] == [t.id for t in reversed(made)]
    assert end is None


def test_a_cursor_that_is_not_one_of_the_tenants_tasks_is_not_found(
    repo: FirestoreTaskRepository,
):
    mine, theirs = _task(f"t-{uuid.uuid4().hex[:6]}"), _task(f"t-{uuid.uuid4().hex[:6]}")
    repo.add(mine)
    repo.add(theirs)
    for cursor in ("zzzz", uuid.uuid4().hex, theirs.id):
        with pytest.raises(NotFound):
            repo.list_for_tenant(mine.tenant_id, limit=3, after=cursor)
    assert repo.list_for_tenant(mine.tenant_id, limit=3, after=mine.id) == ([], None)


def _canonical_v4(url: str, method: str, headers: dict[str, str]) -> tuple[bytes, str, str]:
    """(string-to-sign, signature hex, signer email) rebuilt from a V4 URL per the spec."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = query.pop("X-Goog-Signature")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    signed = query["X-Goog-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **{k.lower(): v for k, v in headers.items()}}
    canonical_headers = "".join(f"{h}:{all_headers[h].strip()}\n" for h in signed)
    request = "\n".join([method, parts.path, canonical_query, canonical_headers,
                         ";".join(signed), "UNSIGNED-PAYLOAD"])
    email, scope = query["X-Goog-Credential"].split("/", 1)
    to_sign = "\n".join(["GOOG4-RSA-SHA256", query["X-Goog-Date"], scope,
                         hashlib.sha256(request.encode()).hexdigest()])
    return to_sign.encode(), signature, email


def test_signed_urls_verify_with_the_signer_public_key():
    settings = stack_settings()
    assert settings.signer_key_file is not None
    store = GcsBlobStore.connect(settings.project_id, settings.storage_emulator_host,
                                 settings.storage_public_url, settings.signer_key_file)
    key_info = json.loads(settings.signer_key_file.read_text())
    public = serialization.load_pem_private_key(
        key_info["private_key"].encode(), password=None).public_key()
    get_url = store.signed_download_url("vss-artifacts", "tenants/t/tasks/x/a b.json", 600)
    put_url, put_headers = store.signed_upload_url(
        "vss-uploads", "tenants/t/uploads/y/z.json", content_type="application/json",
        size=1000, ttl_seconds=900)
    for url, method, headers in ((get_url, "GET", {}), (put_url, "PUT", put_headers)):
        to_sign, signature, email = _canonical_v4(url, method, headers)
        assert email == key_info["client_email"]
        public.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(),  # type: ignore[union-attr]
                      hashes.SHA256())
    query = dict(parse_qsl(urlsplit(put_url).query))
    assert int(query["X-Goog-Expires"]) <= 900
    # The length range is signed: a client cannot drop it or widen it past the declared size.
    assert "x-goog-content-length-range" in query["X-Goog-SignedHeaders"].split(";")
    assert put_headers["x-goog-content-length-range"] == "1000,1000"
    widened = {**put_headers, "x-goog-content-length-range": "0,20971520"}
    to_sign, signature, _ = _canonical_v4(put_url, "PUT", widened)
    with pytest.raises(InvalidSignature):
        public.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(),  # type: ignore[union-attr]
                      hashes.SHA256())
    tampered = get_url.replace("a%20b.json", "other.json")
    to_sign, signature, _ = _canonical_v4(tampered, "GET", {})
    with pytest.raises(InvalidSignature):
        public.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(),  # type: ignore[union-attr]
                      hashes.SHA256())


def test_the_signed_put_is_create_only_by_signature():
    """`x-goog-if-generation-match: 0` is a signed header: a client that drops or changes it
    breaks the signature, so Cloud Storage takes one PUT of the URL and refuses any other
    (412)."""
    settings = stack_settings()
    assert settings.signer_key_file is not None
    store = GcsBlobStore.connect(settings.project_id, settings.storage_emulator_host,
                                 settings.storage_public_url, settings.signer_key_file)
    public = serialization.load_pem_private_key(
        json.loads(settings.signer_key_file.read_text())["private_key"].encode(),
        password=None).public_key()
    url, headers = store.signed_upload_url("vss-uploads", "tenants/t/uploads/y/z.json",
                                           content_type="application/json", size=10,
                                           ttl_seconds=600)
    assert headers["x-goog-if-generation-match"] == "0"
    signed = dict(parse_qsl(urlsplit(url).query))["X-Goog-SignedHeaders"].split(";")
    assert "x-goog-if-generation-match" in signed
    to_sign, signature, _ = _canonical_v4(url, "PUT", headers)
    public.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(),  # type: ignore[union-attr]
                  hashes.SHA256())
    # Another generation to match, or none (the header left out: an empty value).
    for value in ("1796530797449919", ""):
        forged = {**headers, "x-goog-if-generation-match": value}
        to_sign, signature, _ = _canonical_v4(url, "PUT", forged)
        with pytest.raises(InvalidSignature):
            public.verify(bytes.fromhex(signature), to_sign,  # type: ignore[union-attr]
                          padding.PKCS1v15(), hashes.SHA256())


def test_fake_gcs_takes_the_create_only_put_but_does_not_enforce_it():
    """The difference emulators/README.md states: the signed PUT with its condition header
    works locally, and fake-gcs-server takes a second PUT of the URL too, where Cloud Storage
    answers 412. Locally the signature test above is the proof. If this fails, fake-gcs now
    enforces the condition: assert the 412 and the first bytes here, and drop the note."""
    settings = stack_settings()
    store = GcsBlobStore.connect(settings.project_id, settings.storage_emulator_host,
                                 settings.storage_public_url, settings.signer_key_file)
    name = f"generations/{uuid.uuid4().hex}.json"  # not the uploads bucket: no upload check
    url, headers = store.signed_upload_url(settings.artifacts_bucket, name,
                                           content_type="application/json", size=2,
                                           ttl_seconds=600)
    first = requests.put(url, data=b"{}", headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    second = requests.put(url, data=b"[]", headers=headers, timeout=30)
    assert second.status_code == 200, "fake-gcs refuses a second PUT now: see the docstring"
    assert store.read(settings.artifacts_bucket, name) == b"[]"
