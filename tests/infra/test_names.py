"""Every bucket, topic and queue the code names exists in Terraform, derived from the code
itself: the Settings defaults (shared/vss/config.py). The local stack's own names (subscriptions,
dead-letter and local-only topics) are compared in test_topology.py."""

from __future__ import annotations

from tests.support.terraform import child_modules, root
from vss.config import Settings


def settings_names(suffix: str) -> set[str]:
    return {
        str(info.default) for name, info in Settings.model_fields.items() if name.endswith(suffix)
    }


def test_buckets_the_code_names_exist():
    code = settings_names("_bucket")
    assert code, "found no bucket names in the code"
    base_names = root().locals["bucket_base_names"]
    assert code <= set(base_names.values())
    # Each bucket is created from its base name with the global prefix.
    assert root().locals["buckets"] == (
        '${{for k, base in local.bucket_base_names : k => "${local.bucket_prefix}-${base}"}}'
    )
    storage_buckets = root().calls["storage"]["buckets"]
    assert set(storage_buckets) == set(base_names)
    for key, bucket in storage_buckets.items():
        assert bucket["name"] == f"${{local.buckets.{key}}}"


def test_topics_the_code_names_exist():
    code = settings_names("_topic")
    topics = root().locals["topics"]
    assert code and code <= set(topics.values())
    assert root().calls["messaging"]["topics"] == "${local.topics}"
    messaging = child_modules()["messaging"]
    assert messaging.resources[("google_pubsub_topic", "this")]["for_each"] == "${var.topics}"


def test_queues_the_code_names_exist():
    code = settings_names("_queue")
    queues = root().locals["queues"]
    assert code and code <= set(queues.values())
    assert root().calls["tasks"]["queues"] == {
        "deadlines": "${merge(var.deadline_queue, {name = local.queues.deadlines})}"
    }
    tasks = child_modules()["tasks"]
    queue = tasks.resources[("google_cloud_tasks_queue", "this")]
    assert queue["for_each"] == "${var.queues}"
    assert queue["rate_limits"] and queue["retry_config"]


def test_the_console_is_served_where_terraform_says():
    """The console's URL (an output) ends in the prefix the app mounts its pages under, and its
    function and identity are named as the other functions are."""
    from vss.console.app import PREFIX

    assert root().outputs["console_url"]["value"] == f"https://${{var.console_domain}}{PREFIX}/"
    assert root().locals["function_names"] == (
        '${{for k in keys(local.functions) : k => "vss-${replace(k, "_", "-")}"}}'
    )
    assert root().locals["service_accounts"]["console"]["account_id"] == "vss-console"
    assert root().locals["console_secret_id"] == "vss-console-secret"
