output "alert_policy_ids" {
  description = "Alert policy ids: dead-letter backlog and dead-lettered messages of each watch, and the error rate of each function."
  value = merge(
    { for k, p in google_monitoring_alert_policy.dead_letter_backlog : "dead_letter_backlog_${k}" => p.id },
    { for k, p in google_monitoring_alert_policy.dead_lettered : "dead_lettered_${k}" => p.id },
    { for k, p in google_monitoring_alert_policy.error_rate : "error_rate_${k}" => p.id },
  )
}

output "notification_channels" {
  description = "Notification channel ids."
  value       = local.channels
}
