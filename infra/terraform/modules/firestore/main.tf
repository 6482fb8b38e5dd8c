# The Firestore database in native mode. Transactions in the code rely on pessimistic
# concurrency (reads inside a transaction lock the documents), the native default.
resource "google_firestore_database" "this" {
  project                           = var.project_id
  name                              = var.database_name
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_policy
}

# A daily backup of the whole database, each kept backup_retention_days. Point-in-time recovery
# (above) reaches back 7 days; backups reach further and outlive the database itself. Chosen
# over scheduled exports (Cloud Scheduler calling exportDocuments into a bucket with a
# retention policy): no job, bucket, service account or grant to keep, and a restore is one
# command (into a new database). A copy outside Firestore stays one `gcloud firestore export`
# away (README, Deploy: restore a tenant).
resource "google_firestore_backup_schedule" "daily" {
  project   = var.project_id
  database  = google_firestore_database.this.name
  retention = "${var.backup_retention_days * 86400}s"

  daily_recurrence {}
}

resource "google_firestore_index" "this" {
  for_each = var.composite_indexes

  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = each.value.collection
  query_scope = "COLLECTION"
  api_scope   = "ANY_API"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.path
      order        = fields.value.order
      array_config = fields.value.array_config
    }
  }
}

# Vector indexes (flat: exact nearest neighbours): the equality pre-filter fields in order, then
# the vector field. A find_nearest query needs one whose fields and dimension match it exactly.
resource "google_firestore_index" "vector" {
  for_each = var.vector_indexes

  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = each.value.collection
  query_scope = "COLLECTION"
  api_scope   = "ANY_API"

  dynamic "fields" {
    for_each = each.value.prefilter
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }

  fields {
    field_path = each.value.field
    vector_config {
      dimension = each.value.dimension
      flat {}
    }
  }
}

# TTL on a timestamp field; its single-field indexes are switched off (index_config {}), as
# Google recommends for TTL fields: monotonically growing timestamps make index hotspots.
resource "google_firestore_field" "ttl" {
  for_each = var.ttl_fields

  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collection
  field      = each.value.field

  ttl_config {}
  index_config {}
}
