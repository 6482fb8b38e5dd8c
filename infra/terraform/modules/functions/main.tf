# Cloud Functions (2nd gen). Each archive is named by its content hash (make package), so a
# code change uploads a new object and redeploys exactly the functions whose archive changed.

resource "google_storage_bucket_object" "source" {
  for_each = var.functions

  bucket       = var.sources_bucket
  name         = "functions/${basename(each.value.source)}"
  source       = each.value.source
  content_type = "application/zip"
  metadata     = { sha256 = each.value.source_sha256 }

  # The new archive must exist before the function points at it; the old one goes after.
  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = filesha256(each.value.source) == each.value.source_sha256
      error_message = "${each.key}: ${each.value.source} does not match its recorded sha256; run `make package` again."
    }
  }
}

resource "google_cloudfunctions2_function" "this" {
  for_each = var.functions

  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = each.value.description

  build_config {
    runtime         = var.runtime
    entry_point     = each.value.entry_point
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = var.sources_bucket
        object = google_storage_bucket_object.source[each.key].name
      }
    }

    # Runtime security patches without a redeploy.
    automatic_update_policy {}
  }

  service_config {
    service_account_email            = each.value.service_account_email
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_seconds
    max_instance_count               = each.value.max_instances
    min_instance_count               = each.value.min_instances
    max_instance_request_concurrency = each.value.concurrency
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = each.value.environment

    dynamic "secret_environment_variables" {
      for_each = each.value.secret_environment
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret
        version    = secret_environment_variables.value.version
      }
    }
  }

  # Eventarc trigger on objects finalized in one bucket (the bucket and trigger share a location).
  dynamic "event_trigger" {
    for_each = each.value.storage_trigger == null ? [] : [each.value.storage_trigger]
    content {
      trigger_region        = event_trigger.value.region
      event_type            = "google.cloud.storage.object.v1.finalized"
      retry_policy          = event_trigger.value.retry ? "RETRY_POLICY_RETRY" : "RETRY_POLICY_DO_NOT_RETRY"
      service_account_email = event_trigger.value.service_account_email

      event_filters {
        attribute = "bucket"
        value     = event_trigger.value.bucket
      }
    }
  }

  lifecycle {
    precondition {
      condition     = each.value.concurrency == 1 || tonumber(each.value.cpu) >= 1
      error_message = "${each.key}: more than one concurrent request per instance needs at least 1 CPU."
    }

    # The requests served at once, across all instances, within the bound (an API quota).
    # A conditional, not `||`: Terraform before 1.12 evaluates both sides of `||`.
    precondition {
      condition     = each.value.max_requests == null ? true : each.value.max_instances * each.value.concurrency <= each.value.max_requests
      error_message = "${each.key}: max_instances x concurrency (${each.value.max_instances} x ${each.value.concurrency}) exceeds its bound of ${coalesce(each.value.max_requests, 0)} requests at once."
    }
  }
}

locals {
  # service_config.service may be a full resource name; IAM and metrics use the short one.
  services = { for k, f in google_cloudfunctions2_function.this : k => reverse(split("/", f.service_config[0].service))[0] }

  invoker_bindings = { for b in flatten([
    for fn, members in var.invokers : [for name, member in members : { key = "${fn} ${name}", fn = fn, member = member }]
  ]) : b.key => b }
}

# Invoking a 2nd gen function is roles/run.invoker on its Cloud Run service.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoker_bindings

  project  = var.project_id
  location = var.region
  name     = local.services[each.value.fn]
  role     = "roles/run.invoker"
  member   = each.value.member
}
