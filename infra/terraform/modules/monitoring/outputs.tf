output "alert_policy_ids" {
  description = "Alert policy ids: dead-letter backlog, dead-lettered messages and the error rate of each function."
  value = merge(
    {
      dead_letter_backlog = google_monitoring_alert_policy.dead_letter_backlog.id
      dead_lettered       = google_monitoring_alert_policy.dead_lettered.id
    },
    { for k, p in google_monitoring_alert_policy.error_rate : "error_rate_${k}" => p.id },
  )
}

output "notification_channels" {
  description = "Notification channel ids."
  value       = local.channels
}
