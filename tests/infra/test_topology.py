"""The local stack's topology (emulators/topology.py) is whole, and agrees with Terraform, with
the Settings defaults and with the functions' entry points. Everything is compared as data: the
topology is imported, Terraform is parsed with python-hcl2."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulators.config import Config, StackError
from emulators.localenv import ensure_console_secret, local_env
from emulators.topology import (
    HOST,
    MAX_DELIVERY_ATTEMPTS,
    PROJECT,
    REGION,
    TOPOLOGY,
    Subscription,
    Trigger,
)
from tests.support.paths import ROOT
from tests.support.terraform import (
    child_modules,
    entry_points,
    optional_defaults,
    resolve,
    root,
    variable_default,
)
from vss.config import Settings
from vss.domain.function_starts import FUNCTIONS

# Pub/Sub's limits, which the messaging module validates too: the local stack must not depend on
# a setting production cannot have.
ACK_DEADLINE_S = (10, 600)
DELIVERY_ATTEMPTS = (5, 100)
MAX_BACKOFF_S = 600


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings() as the code sees it with no VSS_* variable set."""
    for name in [n for n in os.environ if n.startswith("VSS_")]:
        monkeypatch.delenv(name)
    return Settings()


def _production(subscriptions: tuple[Subscription, ...]) -> dict[str, Subscription]:
    return {s.name: s for s in subscriptions if s.local_only is None}


# --- the topology is whole -----------------------------------------------------------------


def test_components_have_distinct_names_and_ports():
    ports = TOPOLOGY.base_ports()
    names = [c.name for c in (*TOPOLOGY.emulators, TOPOLOGY.bridge, *TOPOLOGY.functions,
                                TOPOLOGY.relay)]
    assert len(names) == len(ports), Counter(names)
    assert len(set(ports.values())) == len(ports), ports


def test_every_function_has_its_source_and_push_functions_their_subscriptions():
    for function in TOPOLOGY.functions:
        assert (ROOT / function.source).is_file(), function.source
        pushed = list(TOPOLOGY.subscriptions_to(function.name))
        assert bool(pushed) == (function.trigger is Trigger.PUSH), function.name
    assert TOPOLOGY.storage_function().trigger is Trigger.STORAGE


def test_subscriptions_connect_declared_topics_to_components_that_take_pushes():
    topics = {t.name for t in TOPOLOGY.topics}
    takers = {TOPOLOGY.bridge.name} | {
        f.name for f in TOPOLOGY.functions if f.trigger is Trigger.PUSH
    }
    names = [s.name for s in TOPOLOGY.subscriptions]
    assert len(set(names)) == len(names)
    for sub in TOPOLOGY.subscriptions:
        assert sub.topic in topics and sub.push_to in takers, sub
        assert sub.dead_letter is None or sub.dead_letter.topic in topics, sub
    # Nothing published goes unheard: every topic, dead-letter topics included, is pushed on.
    assert {s.topic for s in TOPOLOGY.subscriptions} == topics
    assert [s.name for s in TOPOLOGY.subscriptions_to(TOPOLOGY.bridge.name)] == [
        f"{TOPOLOGY.bridge.topic}-push"
    ]


def test_subscriptions_stay_within_pubsub_limits():
    for sub in TOPOLOGY.subscriptions:
        assert ACK_DEADLINE_S[0] <= sub.ack_deadline_seconds <= ACK_DEADLINE_S[1], sub.name
        retry = sub.retry
        assert 0 <= retry.minimum_backoff_seconds <= retry.maximum_backoff_seconds, sub.name
        assert retry.maximum_backoff_seconds <= MAX_BACKOFF_S, sub.name
        if sub.dead_letter:
            attempts = sub.dead_letter.max_delivery_attempts
            assert DELIVERY_ATTEMPTS[0] <= attempts <= DELIVERY_ATTEMPTS[1], sub.name


def test_queues_call_http_functions():
    for queue in TOPOLOGY.queues:
        assert TOPOLOGY.function(queue.target).trigger is Trigger.HTTP, queue
        assert queue.max_dispatches_per_second > 0 and queue.max_concurrent_dispatches >= 1


def test_the_readme_lists_every_component_on_its_port():
    text = (ROOT / "emulators" / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\w+) \| (\d+) \|", text, flags=re.MULTILINE))
    assert {name: int(port) for name, port in rows.items()} == TOPOLOGY.base_ports()


# --- Settings ------------------------------------------------------------------------------


def test_the_names_settings_holds_are_its_defaults(defaults: Settings):
    assert (defaults.project_id, defaults.region) == (PROJECT, REGION)
    assert {b.name for b in TOPOLOGY.buckets} == {
        defaults.uploads_bucket,
        defaults.artifacts_bucket,
    }
    topics = {t.name for t in TOPOLOGY.topics}
    assert {defaults.stages_topic, defaults.segments_topic} <= topics
    assert defaults.deadline_queue in {q.name for q in TOPOLOGY.queues}
    # Settings names no other resource: a new one must join the topology, or this test.
    named = {n for n in Settings.model_fields if n.endswith(("_bucket", "_topic", "_queue"))}
    assert named == {
        "uploads_bucket", "artifacts_bucket", "stages_topic", "segments_topic", "deadline_queue",
    }


def test_the_tts_worker_synthesises_at_most_the_tts_quota_at_once(defaults: Settings):
    assert TOPOLOGY.function("tts_worker").max_concurrency == defaults.tts_concurrency
    [pushed] = TOPOLOGY.subscriptions_to("tts_worker")
    assert pushed.topic == defaults.segments_topic


def test_the_local_env_is_read_by_settings_as_the_topology_names_it(
    monkeypatch: pytest.MonkeyPatch, defaults: Settings
):
    env = local_env(Config(PROJECT, TOPOLOGY.base_ports()), console_secret="s3cret")
    # VSS_API_URL, VSS_CONSOLE_URL and VSS_PUSH_RELAY_URL are for the clients of the stack
    # (the demo, the tests, operators, benchmarks), not for Settings.
    known = {f"VSS_{name.upper()}" for name in Settings.model_fields} | {
        "VSS_API_URL", "VSS_CONSOLE_URL", "VSS_PUSH_RELAY_URL"}
    assert {k for k in env if k.startswith("VSS_")} - known == set(), "a name Settings ignores"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    local = Settings()
    assert (local.stages_topic, local.segments_topic) == (defaults.stages_topic,
                                                          defaults.segments_topic)
    # Short leases, so a killed worker's stage or segment is retaken within the few seconds of
    # local redeliveries rather than after production's minutes.
    assert local.stage_lease_seconds < defaults.stage_lease_seconds
    assert local.segment_lease_seconds < defaults.segment_lease_seconds


def test_the_console_is_an_http_function_probed_at_its_login_page():
    """The login page answers 200 without a session only once the console has its secret:
    `up` waits for that, and warns if the page does not answer 200."""
    console = TOPOLOGY.function("console")
    assert console.trigger is Trigger.HTTP and console.entry_point == "console"
    assert console.health_path == "/console/login"
    assert console.base_port == max(f.base_port for f in TOPOLOGY.functions)
    env = local_env(Config(PROJECT, TOPOLOGY.base_ports()), console_secret="s")
    assert env["VSS_CONSOLE_URL"] == f"http://{HOST}:{console.base_port}/console/"


def test_the_stack_console_accepts_the_tokens_the_cli_prints_with_the_same_env(
    monkeypatch: pytest.MonkeyPatch, defaults: Settings
):
    """`vss admin console-token` and the console read VSS_CONSOLE_SECRET from one local.env."""
    from datetime import UTC, datetime

    from vss.console.tokens import check_token, issue_token

    env = local_env(Config(PROJECT, TOPOLOGY.base_ports()), console_secret="kept-secret")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    local = Settings()
    assert local.console_secret is not None and local.console_iap_audience is None
    secret = local.console_secret.get_secret_value()
    assert secret == "kept-secret"
    now = datetime.now(UTC)
    assert check_token(secret, issue_token(secret, now, 5), now) > now


def test_the_console_secret_is_made_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("VSS_CONSOLE_SECRET", raising=False)
    kept = tmp_path / "console-secret"
    first = ensure_console_secret(kept)
    assert len(first) >= 40 and kept.stat().st_mode & 0o777 == 0o600
    assert ensure_console_secret(kept) == first
    # The same value from the environment (a restart with local.env exported) is fine.
    monkeypatch.setenv("VSS_CONSOLE_SECRET", first)
    assert ensure_console_secret(kept) == first


def test_a_chosen_console_secret_is_taken_once_and_never_silently_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    kept = tmp_path / "console-secret"
    monkeypatch.setenv("VSS_CONSOLE_SECRET", "chosen-by-the-operator")
    assert ensure_console_secret(kept) == "chosen-by-the-operator"
    monkeypatch.setenv("VSS_CONSOLE_SECRET", "another-one")
    with pytest.raises(StackError, match="differs from the stack's own"):
        ensure_console_secret(kept)
    assert kept.read_text().strip() == "chosen-by-the-operator"


def test_the_code_gives_up_on_a_segment_before_pubsub_does(defaults: Settings):
    """Otherwise the segment is dead-lettered and its task fails without the last error."""
    [pushed] = TOPOLOGY.subscriptions_to("tts_worker")
    assert pushed.dead_letter is not None
    assert pushed.dead_letter.max_delivery_attempts == MAX_DELIVERY_ATTEMPTS
    assert defaults.segment_max_attempts < pushed.dead_letter.max_delivery_attempts


def test_the_default_deadline_url_is_the_local_deadline_function(defaults: Settings):
    target = TOPOLOGY.queue(defaults.deadline_queue).target
    assert defaults.deadline_url == f"http://{HOST}:{TOPOLOGY.base_ports()[target]}/"


# --- Terraform -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wiring:
    """What a push subscription connects, in terms both sides share."""

    topic: str
    push_to: str
    dead_letter_topic: str | None
    max_delivery_attempts: int | None


def _terraform_subscriptions() -> dict[str, tuple[Wiring, dict[str, object]]]:
    topics = root().locals["topics"]
    found = {}
    for sub in root().calls["messaging"]["push_subscriptions"].values():
        endpoint = re.fullmatch(r"\$\{module\.functions\.uris\.(\w+)\}", sub["push_endpoint"])
        assert endpoint, sub["push_endpoint"]
        dead = sub["dead_letter"]
        wiring = Wiring(
            topics[sub["topic"]],
            endpoint[1],
            topics[dead["topic"]] if dead else None,
            resolve(dead["max_delivery_attempts"]) if dead else None,
        )
        found[resolve(sub["name"])] = (wiring, sub)
    return found


def _wiring(sub: Subscription) -> Wiring:
    dead = sub.dead_letter
    return Wiring(
        sub.topic,
        sub.push_to,
        dead.topic if dead else None,
        dead.max_delivery_attempts if dead else None,
    )


def test_topics_are_terraforms_plus_the_local_only_ones():
    terraform = set(root().locals["topics"].values())
    assert {t.name for t in TOPOLOGY.topics if t.local_only is None} == terraform
    local_only = {t.name for t in TOPOLOGY.topics if t.local_only is not None}
    assert local_only and local_only.isdisjoint(terraform)


def test_subscriptions_are_wired_as_in_terraform():
    terraform = {name: wiring for name, (wiring, _) in _terraform_subscriptions().items()}
    local = {name: _wiring(sub) for name, sub in _production(TOPOLOGY.subscriptions).items()}
    assert local == terraform
    local_only = {s.name for s in TOPOLOGY.subscriptions if s.local_only is not None}
    assert local_only.isdisjoint(root().locals["subscriptions"].values())


def test_local_redelivery_is_never_slower_than_production():
    """The stack retries within seconds so tests see dead letters quickly; it must not be the
    other way round, or the local stack would hide how long production takes to give up."""
    local = _production(TOPOLOGY.subscriptions)
    for name, (_, sub) in _terraform_subscriptions().items():
        retry = local[name].retry
        assert retry.minimum_backoff_seconds <= resolve(sub["minimum_backoff_seconds"]), name
        assert retry.maximum_backoff_seconds <= resolve(sub["maximum_backoff_seconds"]), name


def test_buckets_are_terraforms_but_the_source_archives():
    base_names = root().locals["bucket_base_names"]
    terraform_only = {base_names["sources"]}  # function source archives, deploy only
    assert {b.name for b in TOPOLOGY.buckets} == set(base_names.values()) - terraform_only


def test_the_storage_function_watches_the_same_bucket_as_in_terraform():
    call = root().calls["functions"]["functions"]
    (key,) = re.findall(r"storage_trigger = .*?bucket = module\.storage\.names\.(\w+)", call)
    assert TOPOLOGY.bridge.bucket == root().locals["bucket_base_names"][key]


def test_queues_match_terraform_with_their_dispatch_limits():
    names = root().locals["queues"]
    assert {q.name for q in TOPOLOGY.queues} == set(names.values())
    calls = root().calls["tasks"]["queues"]
    for key, name in names.items():
        (variable,) = re.findall(
            rf"^\$\{{merge\(var\.(\w+), \{{name = local\.queues\.{key}\}}\)\}}$", calls[key]
        )
        limits = optional_defaults(variable)
        queue = TOPOLOGY.queue(name)
        assert queue.max_dispatches_per_second == limits["max_dispatches_per_second"], name
        assert queue.max_concurrent_dispatches == limits["max_concurrent_dispatches"], name


def test_the_deadline_queue_calls_the_function_terraform_points_it_at(defaults: Settings):
    (function,) = re.findall(r"local\.function_names\.(\w+)", root().locals["deadline_url"])
    assert TOPOLOGY.queue(defaults.deadline_queue).target == function


def test_functions_and_their_triggers_are_terraforms():
    terraform = {k: (f["entry_point"], f["trigger"]) for k, f in root().locals["functions"].items()}
    assert {f.name: (f.entry_point, f.trigger.value) for f in TOPOLOGY.functions} == terraform


def test_functions_run_the_entry_points_their_code_declares():
    decorator = {"http": "http", "cloudevent": "cloud_event"}
    local = {f.name: (f.entry_point, decorator[f.signature_type]) for f in TOPOLOGY.functions}
    assert local == entry_points()


def _value(expression: object) -> object:
    """A literal, a `${local...}`, or `${var.name}` as its default."""
    variable = re.fullmatch(r"\$\{var\.(\w+)\}", str(expression))
    return variable_default(variable[1]) if variable else resolve(expression)


def test_a_concurrency_bound_holds_in_production_too():
    """A function bounded locally has the same bound in Terraform (`max_requests`), its
    default size keeps within it, and the functions module refuses a size that would not."""
    terraform = root().locals["functions"]
    bounded = {k for k, f in terraform.items() if "max_requests" in f}
    assert bounded == {f.name for f in TOPOLOGY.functions if f.max_concurrency is not None}
    for name in bounded:
        deployed = terraform[name]
        bound = _value(deployed["max_requests"])
        assert bound == TOPOLOGY.function(name).max_concurrency, name
        at_once = _value(deployed["concurrency"]) * _value(deployed["max_instances"])
        assert at_once <= bound, name
    assert "max_requests = try(f.max_requests, null)" in root().calls["functions"]["functions"]
    functions = child_modules()["functions"].resources[
        ("google_cloudfunctions2_function", "this")
    ]
    conditions = [p["condition"] for p in functions["lifecycle"][0]["precondition"]]
    assert (
        "${each.value.max_requests == null ? true : "
        "each.value.max_instances * each.value.concurrency <= each.value.max_requests}"
    ) in conditions, conditions


def test_terraform_sets_the_tts_bound_and_the_segment_attempts_the_code_defaults_to(
    defaults: Settings,
):
    wired = root().locals["wired_environment"]
    assert wired["VSS_TTS_CONCURRENCY"] == "${tostring(var.tts_concurrency)}"
    assert variable_default("tts_concurrency") == defaults.tts_concurrency
    assert wired["VSS_SEGMENT_MAX_ATTEMPTS"] == (
        "${tostring(var.segments_delivery.segment_max_attempts)}"
    )
    delivery = optional_defaults("segments_delivery")
    assert delivery["segment_max_attempts"] == defaults.segment_max_attempts
    assert delivery["segment_max_attempts"] < delivery["max_delivery_attempts"]


def _pushed_to(subscription: dict[str, str]) -> str:
    return re.fullmatch(r"\$\{module\.functions\.uris\.(\w+)\}", subscription["push_endpoint"])[1]


def test_every_dead_letter_is_watched_where_dead_letter_drains_it():
    """module.monitoring alerts on each dead-lettering subscription and on the subscription that
    pushes its dead-letter topic to dead_letter, naming the function that kept failing."""
    subscriptions = root().calls["messaging"]["push_subscriptions"]
    drains = {s["topic"]: key for key, s in subscriptions.items()}
    expected = {
        key: drains[sub["dead_letter"]["topic"]]
        for key, sub in subscriptions.items()
        if sub["dead_letter"]
    }
    found = {}
    for watch in root().calls["monitoring"]["dead_letters"].values():
        source, drain = (
            re.fullmatch(r"\$\{module\.messaging\.subscription_names\.(\w+)\}", watch[field])[1]
            for field in ("source_subscription", "subscription")
        )
        assert watch["worker"] == _pushed_to(subscriptions[source]), watch
        assert _pushed_to(subscriptions[drain]) == "dead_letter", watch
        found[source] = drain
    assert found == expected
    names = root().locals["subscriptions"]
    assert {names[k] for k in found} == {
        s.name for s in TOPOLOGY.subscriptions if s.dead_letter and s.local_only is None
    } == {"vss-stages-push", "vss-segments-push"}


def test_the_health_page_knows_every_function():
    """The console's health page lists `FUNCTIONS`: the stack's and Terraform's functions (the
    console among them once it is deployed like the others)."""
    for deployed in ({f.name for f in TOPOLOGY.functions}, set(root().locals["functions"]),
                     set(entry_points())):
        assert deployed <= set(FUNCTIONS) <= deployed | {"console"}
