resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.notification_emails)

  project      = var.project_id
  display_name = "VSS on-call ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

locals {
  channels = [for c in google_monitoring_notification_channel.email : c.id]
}

# Messages that reach a dead-letter subscription are tasks that failed after every retry;
# dead_letter should fail each task and acknowledge at once. A backlog that stays means the
# handler itself is failing and those tasks are not being closed.
resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  for_each = var.dead_letters

  project               = var.project_id
  display_name          = "VSS: dead-letter backlog on ${each.value.subscription}"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "Undelivered messages in ${each.value.subscription}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${each.value.subscription}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.backlog_threshold
      duration        = "${each.value.backlog_for_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Dead-lettered ${each.value.messages} messages wait in `${each.value.subscription}`: the dead_letter function is not draining them, so their tasks are not marked FAILED. Check the vss-dead-letter logs; the messages are kept 7 days."
  }
}

# Each dead-lettered message is a task that failed after all its attempts: worth a look even
# when the handler closes it.
resource "google_monitoring_alert_policy" "dead_lettered" {
  for_each = var.dead_letters

  project               = var.project_id
  display_name          = "VSS: ${each.value.messages} messages dead-lettered from ${each.value.source_subscription}"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.channels

  conditions {
    display_name = "Messages forwarded to the dead-letter topic"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${each.value.source_subscription}\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A ${each.value.messages} message ran out of delivery attempts. The task's error carries the last cause; the ${each.value.worker} logs have the attempts."
  }
}

# The policies were single resources before the segments' dead letter was watched too.
moved {
  from = google_monitoring_alert_policy.dead_letter_backlog
  to   = google_monitoring_alert_policy.dead_letter_backlog["stages"]
}

moved {
  from = google_monitoring_alert_policy.dead_lettered
  to   = google_monitoring_alert_policy.dead_lettered["stages"]
}

# Share of 5xx answers per function. stage_worker and tts_worker answer 500 on purpose for
# retryable errors (Pub/Sub then redelivers), so a short burst is normal; a sustained share is
# not.
resource "google_monitoring_alert_policy" "error_rate" {
  for_each = var.function_services

  project               = var.project_id
  display_name          = "VSS: ${each.key} 5xx rate above ${var.error_rate.threshold * 100}%"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "5xx / all requests of ${each.value}"

    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${each.value}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${each.value}\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_rate.threshold
      duration           = "${var.error_rate.window_seconds}s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.error_rate.threshold * 100}% of the requests to ${each.value} failed with 5xx for ${var.error_rate.window_seconds / 60} minutes. Its logs are JSON lines with task_id and event_id labels."
  }
}
