"""Production data stays restorable: Firestore keeps 7 days of versions (point-in-time
recovery) and a daily backup kept at least a week, and the uploads and artifacts buckets keep
a deleted or overwritten object recoverable (soft delete or versioning). The procedure that
uses them is in the README (Deploy: restore a tenant)."""

from __future__ import annotations

from tests.support.paths import ROOT
from tests.support.terraform import child_modules, optional_defaults, root, variable_default

WEEK_SECONDS = 7 * 86400
BACKUP_RETENTION_FLOOR_DAYS = 7
PROTECTED_BUCKETS = ("uploads", "artifacts")


def test_point_in_time_recovery_is_on_unless_turned_off():
    database = child_modules()["firestore"].resources[("google_firestore_database", "this")]
    assert database["point_in_time_recovery_enablement"] == (
        '${var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : '
        '"POINT_IN_TIME_RECOVERY_DISABLED"}')
    assert variable_default("point_in_time_recovery", child_modules()["firestore"]) is True
    assert root().calls["firestore"]["point_in_time_recovery"] == (
        "${var.firestore.point_in_time_recovery}")
    assert optional_defaults("firestore")["point_in_time_recovery"] is True


def test_the_database_is_backed_up_daily_and_each_backup_kept_at_least_a_week():
    firestore = child_modules()["firestore"]
    schedules = {name: body for (kind, name), body in firestore.resources.items()
                 if kind == "google_firestore_backup_schedule"}
    assert list(schedules) == ["daily"]
    daily = schedules["daily"]
    assert daily["database"] == "${google_firestore_database.this.name}"
    assert "daily_recurrence" in daily and "weekly_recurrence" not in daily
    assert daily["retention"] == "${var.backup_retention_days * 86400}s"
    # Both the module and the root refuse less than a week, and default above it.
    assert variable_default("backup_retention_days", firestore) >= BACKUP_RETENTION_FLOOR_DAYS
    assert "var.backup_retention_days >= 7" in str(
        firestore.variables["backup_retention_days"]["validation"])
    assert root().calls["firestore"]["backup_retention_days"] == (
        "${var.firestore.backup_retention_days}")
    assert optional_defaults("firestore")["backup_retention_days"] >= BACKUP_RETENTION_FLOOR_DAYS
    assert "var.firestore.backup_retention_days >= 7" in str(
        root().variables["firestore"]["validation"])


def test_uploads_and_artifacts_keep_deleted_and_overwritten_objects():
    storage = child_modules()["storage"]
    bucket = storage.resources[("google_storage_bucket", "this")]
    assert bucket["for_each"] == "${var.buckets}"  # one declaration: every bucket alike
    assert set(PROTECTED_BUCKETS) <= set(root().calls["storage"]["buckets"])
    versioned = bucket.get("versioning", [{}])[0].get("enabled") is True
    soft_delete = bucket.get("soft_delete_policy", [{}])[0].get("retention_duration_seconds")
    assert soft_delete == "${var.soft_delete_retention_seconds}" or versioned
    if not versioned:
        # Without versioning an overwrite soft-deletes the previous generation too: soft delete
        # alone undoes both. Its window, by default, is at least a week.
        assert root().calls["storage"]["soft_delete_retention_seconds"] == (
            "${var.storage.soft_delete_retention_seconds}")
        assert optional_defaults("storage")["soft_delete_retention_seconds"] >= WEEK_SECONDS
        assert variable_default("soft_delete_retention_seconds", storage) >= WEEK_SECONDS


def test_the_readme_says_how_to_restore_a_tenant():
    readme = (ROOT / "README.md").read_text()
    procedure = readme.split("**Restore a tenant's tasks and artifacts to a point in time.**",
                             1)[1].split("\n**", 1)[0]
    for step in ("--snapshot-time", "read_time", "gcloud firestore databases restore",
                 "gcloud storage restore", "--soft-deleted"):
        assert step in procedure, step
