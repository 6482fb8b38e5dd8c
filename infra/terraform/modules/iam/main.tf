# One service account per function plus the identities that call them. Every grant comes from
# var.grants (the commented table in the root main.tf), at the narrowest scope the role allows.

resource "google_service_account" "this" {
  for_each = var.service_accounts

  project      = var.project_id
  account_id   = each.value.account_id
  display_name = each.value.display_name
}

locals {
  members = { for k, sa in google_service_account.this : k => "serviceAccount:${sa.email}" }

  # Flattened grants, keyed by "<sa> <target> <role>" (all known at plan time).
  project_grants = { for g in flatten([
    for sa, r in var.grants : [for role in r.project : { key = "${sa} ${role}", sa = sa, role = role }]
  ]) : g.key => g }

  scoped = {
    for scope in ["buckets", "topics", "queues", "secrets", "service_accounts"] : scope => { for g in flatten([
      for sa, r in var.grants : [
        for target, roles in r[scope] : [for role in roles : { key = "${sa} ${target} ${role}", sa = sa, target = target, role = role }]
      ]
    ]) : g.key => g }
  }
}

resource "google_project_iam_member" "this" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = local.members[each.value.sa]
}

resource "google_storage_bucket_iam_member" "this" {
  for_each = local.scoped.buckets

  bucket = var.buckets[each.value.target]
  role   = each.value.role
  member = local.members[each.value.sa]
}

resource "google_pubsub_topic_iam_member" "this" {
  for_each = local.scoped.topics

  project = var.project_id
  topic   = var.topics[each.value.target]
  role    = each.value.role
  member  = local.members[each.value.sa]
}

resource "google_cloud_tasks_queue_iam_member" "this" {
  for_each = local.scoped.queues

  project  = var.project_id
  location = var.queue_location
  name     = var.queues[each.value.target]
  role     = each.value.role
  member   = local.members[each.value.sa]
}

resource "google_secret_manager_secret_iam_member" "this" {
  for_each = local.scoped.secrets

  project   = var.project_id
  secret_id = var.secrets[each.value.target]
  role      = each.value.role
  member    = local.members[each.value.sa]
}

# Roles on another service account (or on itself: signBlob for signed URLs).
resource "google_service_account_iam_member" "this" {
  for_each = local.scoped.service_accounts

  service_account_id = google_service_account.this[each.value.target].name
  role               = each.value.role
  member             = local.members[each.value.sa]
}

# --- Google service agents -----------------------------------------------------------------

# Eventarc's Cloud Storage triggers: the Cloud Storage service agent publishes the object
# events to the Pub/Sub transport topic Eventarc creates (its name is not known in advance).
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_agent_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

# Pub/Sub mints the OIDC token of each push delivery as the push identity.
resource "google_service_account_iam_member" "pubsub_agent_mints_push_tokens" {
  service_account_id = google_service_account.this[var.push_identity].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
