# Topics and push subscriptions.
#
# Why push subscriptions rather than Eventarc Pub/Sub triggers for stage_worker and
# dead_letter: an Eventarc trigger creates and owns its subscription, so its dead-letter
# policy cannot be managed here, and without one a failing stage is redelivered until the
# message expires (days) instead of reaching vss-stages-dead, and the dead_letter function never
# fails the task. An explicit push subscription carries the dead-letter policy (8 attempts),
# the retry backoff and an OIDC token, and is exactly what the local stack runs
# (emulators/topology.py), so the code is exercised the same way in both places. The
# functions-framework turns the push body into the same messagePublished CloudEvent.

locals {
  pubsub_agent = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  dead_lettering     = { for k, s in var.push_subscriptions : k => s if s.dead_letter != null }
  dead_letter_topics = toset([for s in values(local.dead_lettering) : s.dead_letter.topic])
}

resource "google_pubsub_topic" "this" {
  for_each = var.topics

  project = var.project_id
  name    = each.value
}

resource "google_pubsub_subscription" "push" {
  for_each = var.push_subscriptions

  project                    = var.project_id
  name                       = each.value.name
  topic                      = google_pubsub_topic.this[each.value.topic].id
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = each.value.message_retention_duration

  # Never expire for inactivity: a quiet week must not delete the pipeline's wiring.
  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = each.value.push_endpoint

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = each.value.push_endpoint
    }
  }

  retry_policy {
    minimum_backoff = "${each.value.minimum_backoff_seconds}s"
    maximum_backoff = "${each.value.maximum_backoff_seconds}s"
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter == null ? [] : [each.value.dead_letter]
    content {
      dead_letter_topic     = google_pubsub_topic.this[dead_letter_policy.value.topic].id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the dead-letter
# topic and acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics

  project = var.project_id
  topic   = google_pubsub_topic.this[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.dead_lettering

  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
