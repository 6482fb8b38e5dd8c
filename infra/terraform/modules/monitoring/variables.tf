variable "project_id" {
  description = "Project whose metrics are watched and where the policies live."
  type        = string
}

variable "notification_emails" {
  description = "E-mail addresses notified by every alert policy (empty: incidents show in the console only)."
  type        = list(string)
  default     = []
}

variable "function_services" {
  description = "Cloud Run service name of each function by key (2nd gen functions report their requests there)."
  type        = map(string)
}

variable "error_rate" {
  description = "Alert when a function's share of 5xx answers stays above threshold (a ratio) for window_seconds."
  type = object({
    threshold      = number
    window_seconds = number
  })

  validation {
    condition     = var.error_rate.threshold > 0 && var.error_rate.threshold < 1 && var.error_rate.window_seconds >= 60
    error_message = "threshold is a ratio in (0, 1); window_seconds is at least 60."
  }
}

variable "dead_letters" {
  description = "Dead-letter watches by key: what the messages are (for the alert text), the function that kept failing them, the subscription that dead-letters them, the dead-letter subscription dead_letter drains, and the backlog above which (for backlog_for_seconds) that handler is considered stuck."
  type = map(object({
    messages            = string
    worker              = string
    source_subscription = string
    subscription        = string
    backlog_threshold   = number
    backlog_for_seconds = number
  }))
}
