# Cloud Tasks queues. A queue name cannot be reused for 7 days after deletion, so destroy and
# re-create of the same environment must wait (or use another name).
resource "google_cloud_tasks_queue" "this" {
  for_each = var.queues

  project  = var.project_id
  location = var.location
  name     = each.value.name

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.max_attempts
    min_backoff        = "${each.value.min_backoff_seconds}s"
    max_backoff        = "${each.value.max_backoff_seconds}s"
    max_doublings      = each.value.max_doublings
    max_retry_duration = "${each.value.max_retry_duration_seconds}s"
  }

  stackdriver_logging_config {
    sampling_ratio = each.value.log_sampling_ratio
  }
}
