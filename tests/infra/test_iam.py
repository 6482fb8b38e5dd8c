"""Each service account holds exactly its documented roles (infra/terraform/README.md,
"Identities"), every grant is made at the narrowest scope, and no IAM resource hides
outside the data-driven ones."""

from __future__ import annotations

import re

from tests.support.terraform import TF_DIR, all_modules, child_modules, root

README = TF_DIR / "README.md"
SCOPES = {
    "buckets": "bucket",
    "topics": "topic",
    "queues": "queue",
    "secrets": "secret",
    "service_accounts": "service-account",
}
# Roles granted on the whole project, with why no narrower scope exists.
PROJECT_ROLES = {
    "roles/datastore.user": "Firestore IAM has no per-collection scope",
    "roles/eventarc.eventReceiver": "granted on the project only",
    "roles/run.builder": "Cloud Build writes logs and images project-wide",
}
# Every IAM resource in the configuration (module, type, name) -> what it grants.
IAM_RESOURCES = {
    ("iam", "google_project_iam_member", "this"): "local.project_grants",
    ("iam", "google_storage_bucket_iam_member", "this"): "local.scoped.buckets",
    ("iam", "google_pubsub_topic_iam_member", "this"): "local.scoped.topics",
    ("iam", "google_cloud_tasks_queue_iam_member", "this"): "local.scoped.queues",
    ("iam", "google_secret_manager_secret_iam_member", "this"): "local.scoped.secrets",
    ("iam", "google_service_account_iam_member", "this"): "local.scoped.service_accounts",
    ("iam", "google_project_iam_member", "gcs_agent_publishes_events"): "service agent",
    ("iam", "google_service_account_iam_member", "pubsub_agent_mints_push_tokens"): "service agent",
    ("functions", "google_cloud_run_v2_service_iam_member", "invoker"): "local.invoker_bindings",
    ("messaging", "google_pubsub_topic_iam_member", "dead_letter_publisher"): "service agent",
    (
        "messaging",
        "google_pubsub_subscription_iam_member",
        "dead_letter_subscriber",
    ): "service agent",
    ("storage", "google_project_iam_audit_config", "storage"): "audit logs, not a grant",
    (
        "iap_frontend",
        "google_iap_web_backend_service_iam_binding",
        "operators",
    ): "var.members: who IAP lets through to the console",
}
# Authoritative bindings, each on a resource only this configuration creates, where the list
# must be the whole truth: a grant made by hand would silently let someone in.
AUTHORITATIVE = {
    ("iap_frontend", "google_iap_web_backend_service_iam_binding", "operators"),
}


def documented() -> set[tuple[str, str, str, str]]:
    """(key, account, role, scope) rows of the Identities table."""
    text = README.read_text().split("## Identities", 1)[1]
    table = text.split("\n\n| key |", 1)[1].split("\n\n", 1)[0]
    rows = set()
    for line in ("| key |" + table).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.add(tuple(cells[:4]))
    return rows


def configured() -> set[tuple[str, str, str, str]]:
    """The same rows, flattened from local.grants in main.tf."""
    accounts = root().locals["service_accounts"]
    rows = set()
    for key, grant in root().locals["grants"].items():
        account = accounts[key]["account_id"]
        rows |= {(key, account, role, "project") for role in grant.get("project", [])}
        for scope, label in SCOPES.items():
            for target, roles in grant.get(scope, {}).items():
                rows |= {(key, account, role, f"{label}:{target}") for role in roles}
        rows |= {
            (key, account, "roles/run.invoker", f"function:{fn}") for fn in grant.get("invokes", [])
        }
    return rows


def test_each_service_account_holds_exactly_its_documented_roles():
    docs, config = documented(), configured()
    assert len(docs) > 20
    assert config - docs == set(), "granted but not documented"
    assert docs - config == set(), "documented but not granted"


def test_every_service_account_has_grants_and_every_grant_an_account():
    assert set(root().locals["grants"]) == set(root().locals["service_accounts"])


def test_grant_targets_exist():
    locals_ = root().locals
    targets = {
        "buckets": set(locals_["bucket_base_names"]),
        "topics": set(locals_["topics"]),
        "queues": set(locals_["queues"]),
        "secrets": set(locals_["secrets"]),
        "service_accounts": set(locals_["service_accounts"]),
    }
    for key, grant in locals_["grants"].items():
        for scope, allowed in targets.items():
            assert set(grant.get(scope, {})) <= allowed, (key, scope)
        assert set(grant.get("invokes", [])) <= set(locals_["functions"]), key


def test_project_level_roles_are_only_those_without_a_narrower_scope():
    roles = {r for g in root().locals["grants"].values() for r in g.get("project", [])}
    assert roles <= set(PROJECT_ROLES), roles - set(PROJECT_ROLES)


def test_signing_and_acting_as_are_granted_on_service_accounts_not_the_project():
    for grant in root().locals["grants"].values():
        assert not {r for r in grant.get("project", []) if r.startswith("roles/iam.")}
    grants = root().locals["grants"]
    for signer in ("api", "console"):  # signBlob on itself, for V4 signed URLs
        signing = grants[signer]["service_accounts"][signer]
        assert signing == ["roles/iam.serviceAccountTokenCreator"]


def _rows(key: str) -> set[tuple[str, str, str]]:
    return {(role, scope, target) for k, _, role, target_scope in configured() if k == key
            for scope, _, target in [target_scope.partition(":")]}


def test_the_console_holds_less_than_the_api():
    """Everything the console may do the API may do too (the console resumes and cancels
    through the same service layer), except signing as itself, reading its own secret and the
    deadline queue's statistics (the health page); it has no uploads bucket, no Gemini key and
    no write to any bucket."""
    own = {("roles/iam.serviceAccountTokenCreator", "service-account", "console"),
           ("roles/secretmanager.secretAccessor", "secret", "console"),
           ("roles/cloudtasks.viewer", "queue", "deadlines")}
    console, api = _rows("console"), _rows("api")
    assert console - own <= api
    assert console - own < api
    assert not [r for r in console if r[1] == "bucket" and r[2] != "artifacts"]
    assert not [r for r in console if r[1] == "bucket" and r[0] != "roles/storage.objectViewer"]
    assert ("roles/secretmanager.secretAccessor", "secret", "gemini") not in console


def test_the_console_is_open_to_the_operators_alone():
    frontend = child_modules()["iap_frontend"]
    binding = frontend.resources[("google_iap_web_backend_service_iam_binding", "operators")]
    assert binding["role"] == "roles/iap.httpsResourceAccessor"
    assert binding["members"] == "${var.members}"
    assert binding["web_backend_service"] == "${google_compute_backend_service.this.name}"
    assert root().calls["console_frontend"]["members"] == "${var.console_operators}"
    rules = str(root().variables["console_operators"]["validation"])
    assert "(user|group):" in rules and "length(var.console_operators) > 0" in rules


def test_secret_readers_are_the_functions_that_read_it():
    functions = root().locals["functions"]
    for secret in root().locals["secrets"]:
        readers = {k for k, g in root().locals["grants"].items() if secret in g.get("secrets", {})}
        users = {k for k, f in functions.items() if secret in f["secrets"].values()}
        assert readers == users, secret


def test_text_to_speech_is_enabled_and_needs_no_grant():
    """text:synthesize checks no IAM permission, only the API in the caller's project; the
    Text-to-Speech roles cover long-audio synthesis, which nothing here uses."""
    assert '"texttospeech.googleapis.com"' in root().locals["services"]  # a toset([...]) call
    roles = {role for _, _, role, _ in configured()}
    assert not [r for r in roles if "speech" in r or r.startswith("roles/aiplatform.")]
    assert "Cloud Text-to-Speech needs no grant" in README.read_text()


def test_every_iam_resource_is_known():
    found = {}
    for module in all_modules():
        for (rtype, rname), body in module.resources.items():
            if re.search(r"_iam_|_iam$", rtype):
                found[(module.name, rtype, rname)] = body
    assert set(found) == set(IAM_RESOURCES)
    for address, source in IAM_RESOURCES.items():
        if source.startswith("local."):
            assert found[address]["for_each"] == f"${{{source}}}", address
    # Authoritative bindings or policies would remove grants made by others: only where the
    # configuration owns the resource and the list is the allow-list itself.
    assert {a for a in found if a[1].endswith(("_iam_binding", "_iam_policy"))} == AUTHORITATIVE


def test_the_iam_module_grants_from_the_table():
    call = root().calls["iam"]
    assert call["grants"] == "${local.grants}"
    assert call["service_accounts"] == "${local.service_accounts}"
    iam = child_modules()["iam"]
    assert iam.resources[("google_service_account", "this")]["for_each"] == (
        "${var.service_accounts}"
    )
