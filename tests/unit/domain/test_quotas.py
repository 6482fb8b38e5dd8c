"""The pure quota rules: effective limits, what fits, and when to come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vss.domain.quotas import (
    RUNNING_TASKS_RETRY_SECONDS,
    UNLIMITED,
    DailyAllowance,
    Quota,
    QuotaLimits,
    QuotaOverrides,
    effective_limits,
    enforce,
    fits,
    parse_override,
    seconds_to_next_utc_day,
    seconds_until_hour_frees,
)
from vss.domain.usage import Usage
from vss.errors import (
    QUOTA_ERRORS,
    LlmTokensQuotaExceeded,
    QuotaExceeded,
    RunningTasksQuotaExceeded,
    TtsCharactersQuotaExceeded,
)

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFAULTS = QuotaLimits(running_tasks=5, tasks_per_hour=60, upload_bytes_per_day=1000,
                       tts_characters_per_day=100, llm_tokens_per_day=1000)


def test_every_quota_has_its_own_error_and_code():
    assert set(QUOTA_ERRORS) == {q.value for q in Quota}
    assert len({cls.code for cls in QUOTA_ERRORS.values()}) == len(Quota)
    assert all(cls.http_status == 429 and not cls.retryable for cls in QUOTA_ERRORS.values())


def test_an_override_replaces_the_default_unlimited_lifts_it_and_none_keeps_it():
    overrides = QuotaOverrides(running_tasks=0, tasks_per_hour=UNLIMITED)
    limits = effective_limits(DEFAULTS, overrides)
    assert limits.running_tasks == 0
    assert limits.tasks_per_hour is None
    assert limits.upload_bytes_per_day == DEFAULTS.upload_bytes_per_day
    cleared = overrides.changed({Quota.RUNNING_TASKS: None})
    assert effective_limits(DEFAULTS, cleared).running_tasks == DEFAULTS.running_tasks
    assert cleared.tasks_per_hour == UNLIMITED


def test_overrides_are_numbers_unlimited_or_default():
    assert parse_override("12") == 12
    assert parse_override("unlimited") == UNLIMITED
    assert parse_override("default") is None
    for bad in ("-1", "lots", ""):
        with pytest.raises(ValueError):
            parse_override(bad)
    with pytest.raises(ValueError):
        QuotaOverrides.model_validate({"running_tasks": -1})


def test_a_request_fits_up_to_the_limit_inclusive():
    assert fits(10, 9, 1) and not fits(10, 10, 1) and not fits(10, 5, 6)
    assert fits(None, 10**12, 10**12)
    assert not fits(0, 0, 1)


def test_retry_after_is_the_next_utc_midnight_for_daily_quotas():
    assert seconds_to_next_utc_day(NOON) == 12 * 3600
    assert seconds_to_next_utc_day(datetime(2026, 3, 1, 23, 59, 59, 500_000, tzinfo=UTC)) == 1
    paris_morning = datetime(2026, 3, 2, 0, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert seconds_to_next_utc_day(paris_morning) == 23 * 3600 + 30 * 60


def test_retry_after_for_the_hour_is_when_its_oldest_task_leaves_it():
    assert seconds_until_hour_frees(NOON - timedelta(minutes=50), NOON) == 600
    assert seconds_until_hour_frees(NOON - timedelta(minutes=60), NOON) == 1
    assert seconds_until_hour_frees(None, NOON) == 1


def test_enforce_raises_the_quotas_error_with_its_details_and_header():
    enforce(Quota.RUNNING_TASKS, 2, 1, 1, RUNNING_TASKS_RETRY_SECONDS)
    with pytest.raises(RunningTasksQuotaExceeded) as refused:
        enforce(Quota.RUNNING_TASKS, 2, 2, 1, RUNNING_TASKS_RETRY_SECONDS)
    assert refused.value.details == {"quota": "running_tasks", "limit": 2, "used": 2,
                                     "requested": 1, "retry_after_seconds": 30}
    assert refused.value.headers() == {"Retry-After": "30"}
    assert isinstance(refused.value, QuotaExceeded)


def test_the_daily_allowance_counts_the_ledger_and_the_attempts_own_spending():
    allowance = DailyAllowance(DEFAULTS, Usage(llm_input_tokens=500, llm_output_tokens=100,
                                               tts_characters=40), NOON)
    allowance.check_llm_tokens(Usage(), 400)
    with pytest.raises(LlmTokensQuotaExceeded) as refused:
        allowance.check_llm_tokens(Usage(llm_input_tokens=300), 101)
    assert refused.value.details["used"] == 900
    assert refused.value.retry_after_seconds == 12 * 3600
    allowance.check_tts_characters(Usage(tts_characters=10), 50)
    with pytest.raises(TtsCharactersQuotaExceeded):
        allowance.check_tts_characters(Usage(tts_characters=10), 51)
