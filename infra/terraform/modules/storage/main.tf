# Buckets with uniform access and public access prevention: nothing is ever public, the edge
# reaches objects only through V4 signed URLs that a function's identity signs.
resource "google_storage_bucket" "this" {
  for_each = var.buckets

  project                     = var.project_id
  name                        = each.value.name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
  labels                      = { bucket = replace(each.key, "_", "-") }

  # Object paths are deterministic and overwritten on retry; soft delete (below) is the undo.
  versioning {
    enabled = false
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.expire_after_days == null ? [] : [each.value.expire_after_days]
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  # Parts of abandoned XML multipart uploads are billed until removed.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Browsers send a preflight before a signed PUT carrying Content-Type,
  # x-goog-content-length-range and x-goog-if-generation-match; GCS answers it from this block.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 && length(each.value.cors_methods) > 0 ? [each.value.cors_methods] : []
    content {
      origin          = var.cors_origins
      method          = cors.value
      response_header = ["Content-Type", "Content-Length", "Content-MD5", "ETag", "x-goog-content-length-range", "x-goog-if-generation-match", "x-goog-generation"]
      max_age_seconds = 3600
    }
  }
}

# Who read or wrote which object, including through signed URLs (whose signer is recorded).
# Authoritative for storage.googleapis.com's audit config in this project only.
resource "google_project_iam_audit_config" "storage" {
  count = var.data_access_logs ? 1 : 0

  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
