output "api_url" {
  description = "Base URL of the edge API (the edge's cloud endpoint), ending in /api/v1/."
  value       = "${module.functions.uris.api}/api/v1/"
}

output "function_urls" {
  description = "HTTPS URL of each function by key."
  value       = module.functions.uris
}

output "deadline_url" {
  description = "URL the deadline checks are delivered to (VSS_DEADLINE_URL)."
  value       = local.deadline_url
}

output "uploads_bucket" {
  description = "Bucket of edge uploads (VSS_UPLOADS_BUCKET)."
  value       = module.storage.names.uploads
}

output "artifacts_bucket" {
  description = "Bucket of task artifacts (VSS_ARTIFACTS_BUCKET)."
  value       = module.storage.names.artifacts
}

output "sources_bucket" {
  description = "Bucket of the function source archives."
  value       = module.storage.names.sources
}

output "stages_topic" {
  description = "Pub/Sub topic of stage messages (VSS_STAGES_TOPIC)."
  value       = module.messaging.topic_names.stages
}

output "segments_topic" {
  description = "Pub/Sub topic of dubbing segment messages (VSS_SEGMENTS_TOPIC)."
  value       = module.messaging.topic_names.segments
}

output "dead_letter_topic" {
  description = "Pub/Sub topic stage messages go to after their last attempt."
  value       = module.messaging.topic_names.stages_dead
}

output "topics" {
  description = "All Pub/Sub topic names by key."
  value       = module.messaging.topic_names
}

output "subscriptions" {
  description = "Push subscription names by key."
  value       = module.messaging.subscription_names
}

output "deadline_queue" {
  description = "Cloud Tasks queue of the deadline checks (VSS_DEADLINE_QUEUE)."
  value       = module.tasks.names.deadlines
}

output "firestore_database" {
  description = "Firestore database id."
  value       = module.firestore.database
}

output "service_accounts" {
  description = "Service account e-mail of each function and caller identity by key."
  value       = module.iam.emails
}

output "gemini_secret" {
  description = "Secret Manager secret holding the Gemini API key (GEMINI_API_KEY of stage_worker and tts_worker)."
  value       = google_secret_manager_secret.gemini.secret_id
}

output "alert_policies" {
  description = "Alert policy ids by purpose."
  value       = module.monitoring.alert_policy_ids
}
