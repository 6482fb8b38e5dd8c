output "database" {
  description = "Database id, as the client libraries name it."
  value       = google_firestore_database.this.name
}

output "backup_schedule" {
  description = "The daily backup schedule, as projects/P/databases/D/backupSchedules/ID."
  value       = google_firestore_backup_schedule.daily.name
}

output "index_ids" {
  description = "Composite index ids by key."
  value       = { for k, i in google_firestore_index.this : k => i.id }
}

output "vector_index_ids" {
  description = "Vector index ids by key."
  value       = { for k, i in google_firestore_index.vector : k => i.id }
}

output "ttl_fields" {
  description = "TTL policies by key, as collection/field."
  value       = { for k, f in google_firestore_field.ttl : k => "${f.collection}/${f.field}" }
}
