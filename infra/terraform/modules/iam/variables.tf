variable "project_id" {
  description = "Project of the service accounts and grants."
  type        = string
}

variable "project_number" {
  description = "Project number, to name the Google service agents."
  type        = string
}

variable "service_accounts" {
  description = "Service accounts by key: account id (6-30 characters) and display name."
  type = map(object({
    account_id   = string
    display_name = string
  }))

  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", sa.account_id))])
    error_message = "account_id must be 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "grants" {
  description = "Roles of each service account (by key) on the project, on buckets, topics, queues, secrets and service accounts (by key), and the functions it may invoke (roles/run.invoker, applied by the functions module)."
  type = map(object({
    project          = optional(list(string), [])
    buckets          = optional(map(list(string)), {})
    topics           = optional(map(list(string)), {})
    queues           = optional(map(list(string)), {})
    secrets          = optional(map(list(string)), {})
    service_accounts = optional(map(list(string)), {})
    invokes          = optional(list(string), [])
  }))

  # Basic roles grant thousands of permissions: never.
  validation {
    condition = alltrue(flatten([for g in values(var.grants) : [
      for role in concat(g.project, flatten(values(g.buckets)), flatten(values(g.topics)), flatten(values(g.queues)), flatten(values(g.secrets)), flatten(values(g.service_accounts))) :
      startswith(role, "roles/") && !contains(["roles/owner", "roles/editor", "roles/viewer"], role)
    ]]))
    error_message = "Grants must be predefined roles (roles/...) and never the basic roles owner, editor or viewer."
  }
}

variable "function_keys" {
  description = "Keys of the functions, for the invoker map."
  type        = list(string)
}

variable "buckets" {
  description = "Bucket names by key."
  type        = map(string)
}

variable "topics" {
  description = "Pub/Sub topic names by key."
  type        = map(string)
}

variable "queues" {
  description = "Cloud Tasks queue names by key."
  type        = map(string)
}

variable "queue_location" {
  description = "Region of the Cloud Tasks queues."
  type        = string
}

variable "secrets" {
  description = "Secret Manager secret ids by key."
  type        = map(string)
}

variable "push_identity" {
  description = "Key of the service account Pub/Sub push subscriptions put in their OIDC tokens."
  type        = string
}
