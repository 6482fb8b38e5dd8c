output "topic_names" {
  description = "Topic names by key."
  value       = { for k, t in google_pubsub_topic.this : k => t.name }
}

output "topic_ids" {
  description = "Topic ids (projects/P/topics/NAME) by key."
  value       = { for k, t in google_pubsub_topic.this : k => t.id }
}

output "subscription_names" {
  description = "Push subscription names by key."
  value       = { for k, s in google_pubsub_subscription.push : k => s.name }
}
