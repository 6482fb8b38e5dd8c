"""The permission ledger's checks on hand-made ledgers and grants (the real ledger is checked
after the e2e suite: tests/permissions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.permissions import (
    Use,
    missing_grants,
    read_ledgers,
    role_permissions,
    scope_of,
    terraform,
    unexercised_grants,
)
from vss.adapters import permissions

LOCALS = {
    "topics": {"stages": "vss-stages", "segments": "vss-segments"},
    "queues": {"deadlines": "vss-deadlines"},
    "bucket_base_names": {"uploads": "vss-uploads", "artifacts": "vss-artifacts"},
    "service_accounts": {"api": {"account_id": "vss-api"},
                         "deadline_invoker": {"account_id": "vss-deadline-invoker"}},
}
GRANTS = {"api": {"project": ["roles/datastore.user"],
                  "topics": {"stages": ["roles/pubsub.publisher"]},
                  "queues": {"deadlines": ["roles/cloudtasks.enqueuer"]}}}


def test_a_call_without_a_grant_names_the_function_the_call_and_the_role_to_add():
    uses = [Use("api", "pubsub.topics.publish", "topic/vss-stages"),
            Use("api", "pubsub.topics.publish", "topic/vss-segments"),
            Use("api", "datastore.entities.get", "project"),
            Use("api", "iam.serviceAccounts.actAs",
                "service-account/vss-deadline-invoker@p.iam.gserviceaccount.com")]
    problems = missing_grants(uses, GRANTS, LOCALS, role_permissions())
    assert problems == [
        "api calls with pubsub.topics.publish on topic/vss-segments: grant it "
        "roles/pubsub.publisher on topics.segments in local.grants (infra/terraform/main.tf)",
        "api calls with iam.serviceAccounts.actAs on service-account/vss-deadline-invoker@"
        "p.iam.gserviceaccount.com: grant it roles/iam.serviceAccountUser on "
        "service_accounts.deadline_invoker in local.grants (infra/terraform/main.tf)"]


def test_grants_no_call_needed_are_listed():
    uses = [Use("api", "pubsub.topics.publish", "topic/vss-stages")]
    assert unexercised_grants(uses, GRANTS, LOCALS, role_permissions()) == [
        ("api", "roles/datastore.user", "project"),
        ("api", "roles/cloudtasks.enqueuer", "queues.deadlines")]


def test_resources_map_to_terraform_keys_and_unknown_ones_fail():
    assert scope_of(Use("api", "x", "bucket/vss-uploads"), LOCALS) == ("buckets", "uploads")
    assert scope_of(Use("api", "x", permissions.SELF), LOCALS) == ("service_accounts", "api")
    with pytest.raises(KeyError, match="not create"):
        scope_of(Use("api", "x", "topic/elsewhere"), LOCALS)


def test_the_real_grants_and_role_table_agree_on_every_role():
    grants, _ = terraform()
    roles = role_permissions()
    used = {role for scopes in grants.values() for scope, value in scopes.items()
            if scope != "invokes"  # function names: roles/run.invoker on each
            for role in (value if isinstance(value, list) else
                         [r for rs in value.values() for r in rs])}
    assert used <= set(roles), f"add {sorted(used - set(roles))} to tests/data/iam_roles.json"


def test_the_ledger_records_each_pair_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ledger = tmp_path / "ledger" / "api.jsonl"
    monkeypatch.setenv(permissions.LEDGER_ENV, str(ledger))
    for _ in range(3):
        permissions.used("pubsub.topics.publish", permissions.topic("vss-stages"))
    permissions.datastore("get", "update")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert lines == [{"permission": "pubsub.topics.publish", "resource": "topic/vss-stages"},
                     {"permission": "datastore.entities.get", "resource": "project"},
                     {"permission": "datastore.entities.update", "resource": "project"}]
    assert read_ledgers(ledger.parent)[0] == Use("api", "datastore.entities.get", "project")


def test_the_call_log_records_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = tmp_path / "calls" / "api.log"
    monkeypatch.setenv(permissions.CALL_LOG_ENV, str(calls))
    monkeypatch.delenv(permissions.LEDGER_ENV, raising=False)
    for _ in range(3):
        permissions.used("pubsub.topics.publish", permissions.topic("vss-stages"))
    permissions.datastore("update")
    assert calls.read_text().splitlines() == [
        "pubsub.topics.publish topic/vss-stages"] * 3 + ["datastore.entities.update project"]
