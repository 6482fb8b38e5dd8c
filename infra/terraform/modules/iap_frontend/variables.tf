variable "project_id" {
  description = "Project of the load balancer and of the service behind it."
  type        = string
}

variable "project_number" {
  description = "Project number, part of the IAP audience of the backend service."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run service (its serverless network endpoint group)."
  type        = string
}

variable "name" {
  description = "Prefix of every resource name (<name>-backend, <name>-ip, ...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{0,40}$", var.name))
    error_message = "name must be 1-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cloud_run_service" {
  description = "Name of the Cloud Run service behind the load balancer (a 2nd gen function's own name)."
  type        = string
}

variable "domains" {
  description = "Domain names of the Google-managed certificate; each must resolve to the ip_address output."
  type        = list(string)

  validation {
    condition     = length(var.domains) >= 1 && length(var.domains) <= 100
    error_message = "A managed certificate covers 1-100 domains."
  }
}

variable "members" {
  description = "Who IAP lets through (roles/iap.httpsResourceAccessor on the backend service): user:EMAIL or group:EMAIL; the whole allow-list."
  type        = list(string)

  validation {
    condition     = length(var.members) > 0 && alltrue([for m in var.members : can(regex("^(user|group):", m))])
    error_message = "members needs at least one user: or group: member."
  }
}
