variable "project_id" {
  description = "Project of the queues."
  type        = string
}

variable "location" {
  description = "Region of the queues (the Settings.region the code builds queue paths with)."
  type        = string
}

variable "queues" {
  description = "Cloud Tasks queues by key: name, dispatch rate limits and retry policy."
  type = map(object({
    name                       = string
    max_dispatches_per_second  = number
    max_concurrent_dispatches  = number
    max_attempts               = number
    min_backoff_seconds        = number
    max_backoff_seconds        = number
    max_doublings              = number
    max_retry_duration_seconds = number
    log_sampling_ratio         = optional(number, 1)
  }))

  validation {
    condition     = alltrue([for q in values(var.queues) : q.log_sampling_ratio >= 0 && q.log_sampling_ratio <= 1])
    error_message = "log_sampling_ratio is a fraction in [0, 1]."
  }
}
