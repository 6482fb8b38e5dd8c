output "uris" {
  description = "HTTPS URL (run.app) of each function by key."
  value       = { for k, f in google_cloudfunctions2_function.this : k => f.service_config[0].uri }
}

output "services" {
  description = "Cloud Run service of each function by key (metrics and IAM are on the service)."
  value       = local.services
}

output "ids" {
  description = "Function ids by key."
  value       = { for k, f in google_cloudfunctions2_function.this : k => f.id }
}

output "source_objects" {
  description = "Source archive object of each function by key."
  value       = { for k, o in google_storage_bucket_object.source : k => o.name }
}
