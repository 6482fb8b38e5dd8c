variable "project_id" {
  description = "Project of the topics and subscriptions."
  type        = string
}

variable "project_number" {
  description = "Project number, to name the Pub/Sub service agent."
  type        = string
}

variable "topics" {
  description = "Topic names by key."
  type        = map(string)
}

variable "push_subscriptions" {
  description = "Push subscriptions by key: name, topic key, HTTPS endpoint, ack deadline, redelivery backoff and an optional dead-letter topic key with the attempts before it."
  type = map(object({
    name                       = string
    topic                      = string
    push_endpoint              = string
    ack_deadline_seconds       = number
    minimum_backoff_seconds    = number
    maximum_backoff_seconds    = number
    message_retention_duration = optional(string, "604800s")
    dead_letter = optional(object({
      topic                 = string
      max_delivery_attempts = number
    }))
  }))

  validation {
    condition     = alltrue([for s in values(var.push_subscriptions) : s.ack_deadline_seconds >= 10 && s.ack_deadline_seconds <= 600])
    error_message = "ack_deadline_seconds must be 10-600."
  }

  validation {
    condition     = alltrue([for s in values(var.push_subscriptions) : s.minimum_backoff_seconds >= 0 && s.minimum_backoff_seconds <= s.maximum_backoff_seconds && s.maximum_backoff_seconds <= 600])
    error_message = "Backoff must satisfy 0 <= minimum <= maximum <= 600 seconds."
  }

  validation {
    condition     = alltrue([for s in values(var.push_subscriptions) : s.dead_letter == null || try(s.dead_letter.max_delivery_attempts >= 5 && s.dead_letter.max_delivery_attempts <= 100, false)])
    error_message = "max_delivery_attempts must be 5-100."
  }
}

variable "push_service_account_email" {
  description = "Identity in the OIDC token of every push delivery (it needs roles/run.invoker on the endpoints)."
  type        = string
}
