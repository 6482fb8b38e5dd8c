"""Every bucket, topic, subscription and queue the code names exists in Terraform, derived from
the code itself: Settings defaults (shared/vss/config.py) and emulators/stack.py."""

from __future__ import annotations

import ast
import re

from tests.infra._terraform import STACK_PY, child_modules, resolve, root, string_constants
from vss.config import Settings

# Names only the local stack needs, with the reason production does without them.
LOCAL_ONLY = {
    "vss-gcs-notifications": "fake-gcs publishes storage notifications here for the Eventarc "
    "bridge; in production Eventarc delivers the storage events itself",
    "vss-gcs-notifications-push": "the bridge's subscription to that topic",
    "vss-gcs-notifications-dead": "where that subscription dead-letters a storage event that "
    "keeps failing; Eventarc creates and owns its trigger's subscription, so Terraform cannot "
    "give it one: in production on_upload drops events older than VSS_EVENT_MAX_AGE_SECONDS",
    "vss-gcs-notifications-dead-push": "delivers those dead letters to dead_letter, which logs "
    "and drops them",
}


def settings_names(suffix: str) -> set[str]:
    return {
        str(info.default) for name, info in Settings.model_fields.items() if name.endswith(suffix)
    }


def stack_names(suffix: str) -> set[str]:
    return {v for k, v in string_constants(STACK_PY).items() if k.endswith(suffix)}


def stack_subscriptions() -> dict[str, tuple[str, str | None]]:
    """emulators/stack.py's subscription table: name -> (topic, dead-letter topic or None)."""
    constants = string_constants(STACK_PY)
    tree = ast.parse(STACK_PY.read_text())
    (create,) = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "create_subscriptions"
    ]
    rows = {}
    for node in ast.walk(create):
        if not (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "table"):
            continue
        for row in node.value.elts:
            first, topic, *_, policy = row.elts
            name = (
                first.value
                if isinstance(first, ast.Constant)
                else re.sub(r"\{(\w+)\}", lambda m: constants[m[1]], ast.unparse(first))[2:-1]
            )
            # The policy is None or dead_letter(<TOPIC constant>).
            dead = constants[policy.args[0].id] if isinstance(policy, ast.Call) else None
            rows[name] = (constants[topic.id], dead)
    return rows


def stack_max_delivery_attempts() -> int:
    for node in ast.walk(ast.parse(STACK_PY.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "max_delivery_attempts":
            return node.value.value
    raise AssertionError("no max_delivery_attempts in emulators/stack.py")


def test_buckets_the_code_names_exist():
    code = settings_names("_bucket") | stack_names("_BUCKET")
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
    code = (settings_names("_topic") | stack_names("_TOPIC")) - set(LOCAL_ONLY)
    topics = root().locals["topics"]
    assert code and code <= set(topics.values())
    assert root().calls["messaging"]["topics"] == "${local.topics}"
    messaging = child_modules()["messaging"]
    assert messaging.resources[("google_pubsub_topic", "this")]["for_each"] == "${var.topics}"


def test_subscriptions_mirror_the_local_stack():
    stack = {k: v for k, v in stack_subscriptions().items() if k not in LOCAL_ONLY}
    assert stack, "found no subscriptions in emulators/stack.py"
    topics = root().locals["topics"]
    terraform = {}
    for sub in root().calls["messaging"]["push_subscriptions"].values():
        dead = sub["dead_letter"]
        terraform[resolve(sub["name"])] = (
            topics[sub["topic"]],
            topics[dead["topic"]] if dead else None,
        )
    assert terraform == stack
    messaging = child_modules()["messaging"]
    push = messaging.resources[("google_pubsub_subscription", "push")]
    assert push["for_each"] == "${var.push_subscriptions}"


def test_dead_letter_attempts_match_the_local_stack():
    type_text = root().variables["stages_delivery"]["type"]
    (attempts,) = re.findall(r"max_delivery_attempts\s*=\s*optional\(number,\s*(\d+)\)", type_text)
    assert int(attempts) == stack_max_delivery_attempts()


def test_queues_the_code_names_exist():
    code = settings_names("_queue") | stack_names("_QUEUE")
    queues = root().locals["queues"]
    assert code and code <= set(queues.values())
    assert root().calls["tasks"]["queues"] == {
        "deadlines": "${merge(var.deadline_queue, {name = local.queues.deadlines})}"
    }
    tasks = child_modules()["tasks"]
    queue = tasks.resources[("google_cloud_tasks_queue", "this")]
    assert queue["for_each"] == "${var.queues}"
    assert queue["rate_limits"] and queue["retry_config"]


def test_local_only_names_are_really_in_the_stack_only():
    stack = stack_names("_TOPIC") | set(stack_subscriptions())
    assert set(LOCAL_ONLY) <= stack
    everything = str(root().locals)
    assert all(name not in everything for name in LOCAL_ONLY)
