variable "project_id" {
  description = "Project of the functions."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions runtime id, e.g. python311."
  type        = string
}

variable "sources_bucket" {
  description = "Bucket the source archives are uploaded to."
  type        = string
}

variable "build_service_account" {
  description = "Service account Cloud Build runs the builds as (projects/P/serviceAccounts/EMAIL)."
  type        = string
}

variable "functions" {
  description = "Cloud Functions (2nd gen) by key: name, entry point, source archive, identity, size, an optional bound on max_instances x concurrency (max_requests, e.g. an API quota), ingress, environment, secrets and an optional Cloud Storage trigger."
  type = map(object({
    name                  = string
    description           = string
    entry_point           = string
    source                = string
    source_sha256         = string
    service_account_email = string
    memory                = string
    cpu                   = string
    timeout_seconds       = number
    max_instances         = number
    min_instances         = number
    concurrency           = number
    max_requests          = optional(number)
    ingress               = string
    environment           = map(string)
    secret_environment = optional(map(object({
      secret  = string
      version = string
    })), {})
    storage_trigger = optional(object({
      bucket                = string
      region                = string
      service_account_email = string
      retry                 = bool
    }))
  }))

  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], f.ingress)])
    error_message = "ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : can(regex("^[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?$", f.name))])
    error_message = "Function names must be lowercase letters, digits and hyphens, at most 49 characters (room for the project number in the run.app URL)."
  }
}

variable "invokers" {
  description = "For each function key, the members allowed to invoke it (roles/run.invoker on its Cloud Run service), keyed by a stable name."
  type        = map(map(string))
  default     = {}
}
