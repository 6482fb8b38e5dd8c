"""Every function in functions/ has a Terraform function and back, triggered the way its
entry point expects, with the settings the code reads."""

from __future__ import annotations

import re

from tests.support.paths import ROOT
from tests.support.terraform import child_modules, entry_points, resolve, root
from vss.config import Settings

# Settings that only make sense against the emulators: production must never set them.
LOCAL_ONLY_SETTINGS = {
    "storage_emulator_host",
    "storage_public_url",
    "tasks_emulator_host",
    "signer_key_file",
}
# Terraform sets these ahead of the code; each names what is missing.
PENDING_SETTINGS = {
    "VSS_DEADLINE_SERVICE_ACCOUNT": "Settings.deadline_service_account, passed by vss.bootstrap "
    "to CloudTasksDeadlineScheduler.connect(service_account=...), so deadline checks carry "
    "an OIDC token",
}
TRIGGERS = {"http": {"http"}, "cloud_event": {"storage", "push"}}


def settings_env_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        names.add(f"VSS_{name.upper()}")
        alias = info.validation_alias
        for choice in getattr(alias, "choices", [alias] if isinstance(alias, str) else []):
            names.add(str(choice))
    return names


def test_every_entry_point_has_a_terraform_function_and_back():
    code = entry_points()
    functions = root().locals["functions"]
    assert set(functions) == set(code)
    for key, (entry_point, signature) in code.items():
        assert functions[key]["entry_point"] == entry_point, key
        assert functions[key]["trigger"] in TRIGGERS[signature], key


def test_function_name_lists_in_variable_validations_match():
    """function_sources and function_settings validate keys against a literal list."""
    keys = set(root().locals["functions"])
    for variable in ("function_sources", "function_settings"):
        text = str(root().variables[variable]["validation"])
        (listed,) = re.findall(r'\[("api"[^\]]*)\]', text)[:1]
        assert set(re.findall(r'"(\w+)"', listed)) == keys, variable


def test_each_function_runs_as_its_own_service_account():
    call = root().calls["functions"]["functions"]
    assert "service_account_email = module.iam.emails[k]" in call
    accounts = root().locals["service_accounts"]
    assert set(root().locals["functions"]) <= set(accounts)
    assert len({a["account_id"] for a in accounts.values()}) == len(accounts)


def test_storage_triggered_function_listens_to_finalized_uploads():
    functions = root().locals["functions"]
    assert [k for k, f in functions.items() if f["trigger"] == "storage"] == ["on_upload"]
    call = root().calls["functions"]["functions"]
    assert "bucket = module.storage.names.uploads" in call
    text = child_modules()["functions"].text
    assert 'event_type            = "google.cloud.storage.object.v1.finalized"' in text
    assert '"RETRY_POLICY_RETRY"' in text


def test_push_functions_have_a_push_subscription_each():
    functions = root().locals["functions"]
    push = {k for k, f in functions.items() if f["trigger"] == "push"}
    subscriptions = root().calls["messaging"]["push_subscriptions"]
    endpoints = {
        re.fullmatch(r"\$\{module\.functions\.uris\.(\w+)\}", s["push_endpoint"])[1]
        for s in subscriptions.values()
    }
    assert endpoints == push


def test_wired_environment_uses_the_settings_names():
    wired = root().locals["wired_environment"]
    unknown = set(wired) - settings_env_names() - set(PENDING_SETTINGS)
    assert unknown == set()


def test_every_resource_setting_is_wired():
    """Names of buckets, topics, queues and the URLs the code calls, plus project and region."""
    wired = root().locals["wired_environment"]
    needed = {"project_id", "region"} | {
        name
        for name, info in Settings.model_fields.items()
        if name.endswith(("_bucket", "_topic", "_queue"))
        or (isinstance(info.default, str) and "127.0.0.1" in info.default)
    }
    assert {f"VSS_{n.upper()}" for n in needed} <= set(wired)


def test_local_only_settings_are_never_set():
    assert set(Settings.model_fields) >= LOCAL_ONLY_SETTINGS
    forbidden = {f"VSS_{n.upper()}" for n in LOCAL_ONLY_SETTINGS}
    assert forbidden.isdisjoint(root().locals["wired_environment"])
    extra_rules = str(root().variables["extra_environment"]["validation"])
    assert all(f'"{name}"' in extra_rules for name in forbidden)


def test_extra_environment_cannot_override_what_terraform_wires():
    """The wired names win the merge anyway; refusing them at plan says so instead of silently
    ignoring the value."""
    rules = str(root().variables["extra_environment"]["validation"])
    refused = set(re.findall(r'"(VSS_\w+)"', rules))
    assert set(root().locals["wired_environment"]) - refused == set()


def test_a_segment_is_owned_as_long_as_its_worker_may_run():
    """A segment's lease is tts_worker's timeout: it is retaken only once its worker can no
    longer be writing it, and before Pub/Sub stops waiting for that worker's answer."""
    wired = root().locals["wired_environment"]
    assert wired["VSS_SEGMENT_LEASE_SECONDS"] == (
        "${tostring(local.function_config.tts_worker.timeout_seconds)}"
    )
    timeout = root().locals["functions"]["tts_worker"]["timeout_seconds"]
    assert 3 <= timeout <= Settings.model_fields["segment_lease_seconds"].default
    (push,) = [s for s in root().calls["messaging"]["push_subscriptions"].values()
               if s["push_endpoint"] == "${module.functions.uris.tts_worker}"]
    assert resolve(push["name"]) == "vss-segments-push"


def test_app_settings_are_settings_fields():
    type_text = root().variables["app_settings"]["type"]
    attributes = set(re.findall(r"(\w+)\s*=\s*optional\(", type_text))
    assert attributes and attributes <= set(Settings.model_fields)


def test_secret_environment_reaches_the_code():
    functions = root().locals["functions"]
    secrets = {name: key for f in functions.values() for name, key in f["secrets"].items()}
    assert secrets == {"GEMINI_API_KEY": "gemini", "VSS_CONSOLE_SECRET": "console"}
    assert set(secrets.values()) <= set(root().locals["secrets"])
    code = "\n".join(p.read_text() for p in (ROOT / "shared" / "vss").rglob("*.py"))
    # Read by name, or as a Settings field (VSS_ prefix).
    unread = [name for name in secrets
              if f'"{name}"' not in code and name not in settings_env_names()]
    assert unread == [], "the code no longer reads it"


def test_function_environment_sets_settings_only_that_function_reads():
    """A name set for one function alone is a Settings name, never one every function gets,
    and extra_environment cannot set it for all."""
    wired = root().locals["wired_environment"]
    rules = str(root().variables["extra_environment"]["validation"])
    for function, env in root().locals["function_environment"].items():
        assert function in root().locals["functions"]
        assert set(env) <= settings_env_names(), function
        assert set(env).isdisjoint(wired), function
        assert all(f'"{name}"' in rules for name in env), function


def test_the_console_trusts_only_its_own_iap_backend_and_reads_its_secret():
    console = root().locals["functions"]["console"]
    assert console["ingress"] == "ALLOW_INTERNAL_AND_GCLB" and console["trigger"] == "http"
    assert root().locals["function_environment"]["console"] == {
        "VSS_CONSOLE_IAP_AUDIENCE": "${module.console_frontend.iap_audience}"}
    assert console["secrets"] == {"VSS_CONSOLE_SECRET": "console"}
    assert {"console_secret", "console_iap_audience"} <= set(Settings.model_fields)
    # IAP's service agent is the console's only invoker: no grant invokes it.
    call = root().calls["functions"]["invokers"]
    assert '{iap = local.iap_agent} : name => member if k == "console"' in call
    assert "@gcp-sa-iap.iam.gserviceaccount.com" in root().locals["iap_agent"]
    assert not [k for k, g in root().locals["grants"].items() if "console" in g.get("invokes", [])]


def test_the_console_frontend_serves_the_console_function():
    call = root().calls["console_frontend"]
    assert call["cloud_run_service"] == "${local.function_names.console}"
    assert call["members"] == "${var.console_operators}"
    frontend = child_modules()["iap_frontend"]
    backend = frontend.resources[("google_compute_backend_service", "this")]
    assert backend["iap"] == [{"enabled": True}]
    assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    neg = frontend.resources[("google_compute_region_network_endpoint_group", "this")]
    assert neg["network_endpoint_type"] == "SERVERLESS"
    assert neg["cloud_run"] == [{"service": "${var.cloud_run_service}"}]
    (rule,) = [b for (t, _), b in frontend.resources.items()
               if t == "google_compute_global_forwarding_rule"]
    assert rule["port_range"] == "443"  # HTTPS only
    policy = frontend.resources[("google_compute_ssl_policy", "this")]
    assert policy["min_tls_version"] == "TLS_1_2"
    assert frontend.outputs["iap_audience"]["value"] == (
        "/projects/${var.project_number}/global/backendServices/"
        "${google_compute_backend_service.this.generated_id}")


def test_push_ack_deadline_covers_the_function_timeout():
    subscriptions = root().calls["messaging"]["push_subscriptions"]
    config = root().locals["functions"]
    for sub in subscriptions.values():
        fn = re.search(r"uris\.(\w+)", sub["push_endpoint"])[1]
        assert sub["ack_deadline_seconds"] == (
            f"${{min(600, local.function_config.{fn}.timeout_seconds + 30)}}"
        )
        assert config[fn]["timeout_seconds"] <= 570


def test_names_resolve_for_subscriptions():
    subscriptions = root().calls["messaging"]["push_subscriptions"]
    assert {resolve(s["name"]) for s in subscriptions.values()} == set(
        root().locals["subscriptions"].values()
    )
