variable "project_id" {
  description = "Project of the buckets."
  type        = string
}

variable "location" {
  description = "Location of every bucket (a region such as us-central1, or a multi-region)."
  type        = string
}

variable "buckets" {
  description = "Buckets by key: global name, days after which objects are deleted (null: never) and the methods CORS allows from var.cors_origins (empty: no CORS)."
  type = map(object({
    name              = string
    expire_after_days = optional(number)
    cors_methods      = optional(list(string), [])
  }))

  validation {
    condition     = alltrue([for b in values(var.buckets) : can(regex("^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", b.name)) && !strcontains(b.name, "goog")])
    error_message = "Bucket names must be 3-63 lowercase letters, digits, '-', '_' or '.', and must not contain \"goog\"."
  }

  validation {
    condition     = alltrue([for b in values(var.buckets) : alltrue([for m in b.cors_methods : contains(["GET", "HEAD", "PUT", "POST", "DELETE"], m)])])
    error_message = "cors_methods may contain GET, HEAD, PUT, POST and DELETE."
  }
}

variable "cors_origins" {
  description = "Origins allowed by CORS on the buckets that list cors_methods."
  type        = list(string)
  default     = []
}

variable "soft_delete_retention_seconds" {
  description = "How long deleted or overwritten objects stay recoverable (0 disables soft delete)."
  type        = number
  default     = 604800
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects."
  type        = bool
  default     = false
}

variable "data_access_logs" {
  description = "Record object reads and writes in Cloud Audit Data Access logs (storage.googleapis.com, the whole project)."
  type        = bool
  default     = true
}
