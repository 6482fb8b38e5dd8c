"""Every IAM permission the functions' code used during the test run is granted by Terraform.

Run after the rest of the suite (`make test` does), which leaves the ledger: each function
process of the local stack records what its Google API calls need in production
(`vss.adapters.permissions`). A call no grant covers fails here naming the function, the
permission, the resource and the role to add; grants no recorded call needed are listed and
must be the known ones below (least privilege).
"""

from __future__ import annotations

import json

import pytest

from tests.support.permissions import (
    missing_grants,
    read_ledgers,
    role_permissions,
    terraform,
    unexercised_grants,
)
from tests.support.stack import STATE_DIR

LEDGER = STATE_DIR / "ledger"
# Granted, and needed in production, but by no call the code makes.
NOT_A_CODE_CALL = {
    ("stage_worker", "roles/secretmanager.secretAccessor", "secrets.gemini"):
        "Cloud Run reads the secret into GEMINI_API_KEY when the instance starts",
    ("tts_worker", "roles/secretmanager.secretAccessor", "secrets.gemini"):
        "Cloud Run reads the secret into GEMINI_API_KEY when the instance starts",
    ("api", "roles/secretmanager.secretAccessor", "secrets.gemini"):
        "Cloud Run reads the secret into GEMINI_API_KEY when the instance starts (the API "
        "embeds search queries of an embeddings story index)",
    ("console", "roles/secretmanager.secretAccessor", "secrets.console"):
        "Cloud Run reads the secret into VSS_CONSOLE_SECRET when the instance starts",
}
# Needed by calls a run makes only when its timing produces them: listed, not required.
ONLY_WHEN_WORK_STALLS = {
    ("deadline", "roles/pubsub.publisher", "topics.stages"):
        "the watchdog republishes a stage only when one stalls (a worker killed mid-stage)",
    ("deadline", "roles/pubsub.publisher", "topics.segments"):
        "the watchdog republishes segments only when one stalls (a worker frozen)",
}
# Needed by a call the suite drives through another function only: the same service-layer
# call, exercised there.
EXERCISED_ELSEWHERE = {
    ("console", "roles/pubsub.publisher", "topics.segments"):
        "only a resumed dubbing fan-out publishes segments: the console's e2e test resumes a "
        "failed editing stage, test_dubbing_cloud_faults resumes a fan-out through the API "
        "(both call vss.service.resume.resume_task)",
}
FUNCTIONS = {"api", "on_upload", "stage_worker", "tts_worker", "dead_letter", "deadline",
             "console"}


@pytest.fixture(scope="module")
def uses():
    found = read_ledgers(LEDGER) if LEDGER.is_dir() else []
    if not found:
        pytest.skip("no permission ledger: run the e2e suite against the stack first")
    return found


def test_every_function_left_a_ledger(uses):
    assert {use.function for use in uses} == FUNCTIONS


def test_every_permission_the_code_used_is_granted(uses):
    grants, locals_ = terraform()
    assert missing_grants(uses, grants, locals_, role_permissions()) == []


def test_every_grant_was_needed_by_a_call_or_is_known_not_to_be(uses):
    grants, locals_ = terraform()
    idle = unexercised_grants(uses, grants, locals_, role_permissions())
    report = STATE_DIR.parent / "build" / "permissions.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"used": [u.__dict__ for u in uses],
                                  "unexercised": idle}, indent=2))
    known = set(NOT_A_CODE_CALL) | set(ONLY_WHEN_WORK_STALLS) | set(EXERCISED_ELSEWHERE)
    assert sorted(set(idle) - known) == []
