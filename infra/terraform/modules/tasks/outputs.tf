output "names" {
  description = "Queue names by key."
  value       = { for k, q in google_cloud_tasks_queue.this : k => q.name }
}

output "ids" {
  description = "Queue ids (projects/P/locations/L/queues/NAME) by key."
  value       = { for k, q in google_cloud_tasks_queue.this : k => q.id }
}
