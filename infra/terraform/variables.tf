variable "project_id" {
  description = "Google Cloud project that hosts the whole pipeline (one project per environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 characters, lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of the functions, the Cloud Tasks queue and (by default) the buckets."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Cloud region such as us-central1 or europe-west1."
  }
}

variable "labels" {
  description = "Labels added to every resource that takes labels (the provider's default_labels)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys and values must be lowercase letters, digits, '_' or '-' (keys start with a letter)."
  }
}

variable "function_sources" {
  description = "Zip archive of each function (functions/<key> + the vss package + requirements.txt), named by content hash. Written by `make package` to build/functions/sources.tfvars.json."
  type = map(object({
    path   = string
    sha256 = string
  }))

  validation {
    condition     = toset(keys(var.function_sources)) == toset(["api", "on_upload", "stage_worker", "tts_worker", "dead_letter", "deadline", "console"])
    error_message = "function_sources needs exactly one archive per function: api, on_upload, stage_worker, tts_worker, dead_letter, deadline, console (run `make package`)."
  }

  validation {
    condition     = alltrue([for s in values(var.function_sources) : endswith(s.path, ".zip") && can(regex("^[0-9a-f]{64}$", s.sha256))])
    error_message = "Each function source must be a .zip path with its sha256 (64 hex digits)."
  }
}

variable "runtime" {
  description = "Python runtime of the functions (the project requires Python >= 3.11)."
  type        = string
  default     = "python311"

  validation {
    condition     = contains(["python311", "python312", "python313"], var.runtime)
    error_message = "runtime must be one of python311, python312, python313."
  }
}

variable "function_settings" {
  description = "Per-function overrides of the sizing in main.tf (local.functions); keys are the folder names under functions/, unset fields keep the defaults."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    max_instances   = optional(number)
    min_instances   = optional(number)
    concurrency     = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.function_settings) : contains(["api", "on_upload", "stage_worker", "tts_worker", "dead_letter", "deadline", "console"], k)])
    error_message = "function_settings keys must be function names: api, on_upload, stage_worker, tts_worker, dead_letter, deadline, console."
  }

  validation {
    condition     = alltrue([for s in values(var.function_settings) : s.memory == null || can(regex("^[0-9]+(Mi|Gi|M|G)$", s.memory))])
    error_message = "memory must look like 512Mi or 2Gi."
  }

  validation {
    condition     = alltrue([for s in values(var.function_settings) : s.cpu == null || contains(["0.083", "0.167", "0.333", "0.583", "1", "2", "4", "6", "8"], coalesce(s.cpu, "1"))])
    error_message = "cpu must be one of 0.083, 0.167, 0.333, 0.583, 1, 2, 4, 6, 8."
  }

  # Push-delivered functions must answer within the subscription's ack deadline (at most
  # 600 s); an Eventarc-triggered function may run at most 540 s; HTTP functions 3600 s.
  validation {
    condition = alltrue([for k, s in var.function_settings : s.timeout_seconds == null || (
      coalesce(s.timeout_seconds, 1) >= 1 &&
      coalesce(s.timeout_seconds, 1) <= lookup({ stage_worker = 600, tts_worker = 600, dead_letter = 600, on_upload = 540 }, k, 3600)
    )])
    error_message = "timeout_seconds must be 1-600 for stage_worker, tts_worker and dead_letter, 1-540 for on_upload and 1-3600 for api, deadline and console."
  }

  validation {
    condition = alltrue([for s in values(var.function_settings) : (
      (s.max_instances == null || (coalesce(s.max_instances, 1) >= 1 && coalesce(s.max_instances, 1) <= 1000)) &&
      (s.min_instances == null || (coalesce(s.min_instances, 0) >= 0 && coalesce(s.min_instances, 0) <= 100)) &&
      (s.concurrency == null || (coalesce(s.concurrency, 1) >= 1 && coalesce(s.concurrency, 1) <= 1000))
    )])
    error_message = "max_instances must be 1-1000, min_instances 0-100 and concurrency 1-1000."
  }
}

variable "app_settings" {
  description = "Overrides of the application settings (the VSS_* variables of shared/vss/config.py) on every function; unset fields keep the code's defaults."
  type = object({
    max_upload_bytes       = optional(number)
    signed_url_ttl_seconds = optional(number)
    task_deadline_seconds  = optional(number)
    stage_lease_seconds    = optional(number)
    event_max_age_seconds  = optional(number)
    page_size_max          = optional(number)
  })
  default = {}

  # The same bounds as the pydantic fields, so a bad value fails at plan, not at cold start.
  validation {
    condition     = var.app_settings.signed_url_ttl_seconds == null || (coalesce(var.app_settings.signed_url_ttl_seconds, 1) >= 1 && coalesce(var.app_settings.signed_url_ttl_seconds, 1) <= 900)
    error_message = "signed_url_ttl_seconds must be 1-900 (V4 signed URLs of a service account last at most 15 minutes here)."
  }

  validation {
    condition = (
      (var.app_settings.task_deadline_seconds == null || coalesce(var.app_settings.task_deadline_seconds, 10) >= 10) &&
      (var.app_settings.stage_lease_seconds == null || coalesce(var.app_settings.stage_lease_seconds, 3) >= 3) &&
      (var.app_settings.max_upload_bytes == null || coalesce(var.app_settings.max_upload_bytes, 1) >= 1) &&
      (var.app_settings.event_max_age_seconds == null || coalesce(var.app_settings.event_max_age_seconds, 1) >= 1) &&
      (var.app_settings.page_size_max == null || coalesce(var.app_settings.page_size_max, 1) >= 1)
    )
    error_message = "task_deadline_seconds must be >= 10, stage_lease_seconds >= 3, the others positive."
  }
}

variable "embeddings" {
  description = "Story indexes of the embeddings kind: the Gemini embedding model their scene documents are embedded with (gemini-embedding-001 by default; null: lexical BM25 indexes only) and the vectors' length, which the Firestore vector index is built for."
  type = object({
    model      = optional(string, "gemini-embedding-001")
    dimensions = optional(number, 768)
  })
  default = {}

  validation {
    condition     = var.embeddings.dimensions >= 1 && var.embeddings.dimensions <= 2048 && floor(var.embeddings.dimensions) == var.embeddings.dimensions
    error_message = "embeddings.dimensions must be a whole number from 1 to 2048 (Firestore indexes vectors of at most 2048 dimensions)."
  }

  validation {
    condition     = var.embeddings.model == null || can(regex("^[a-z0-9][a-z0-9.-]*$", coalesce(var.embeddings.model, "x")))
    error_message = "embeddings.model must be a model name such as gemini-embedding-001."
  }
}

variable "extra_environment" {
  description = "Further VSS_* settings for every function (e.g. VSS_GEMINI_MODEL), as strings. The names Terraform wires itself and the local-only settings cannot be set here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : can(regex("^VSS_[A-Z0-9_]+$", k))])
    error_message = "extra_environment keys must be VSS_* setting names in upper case."
  }

  validation {
    condition = length(setintersection(keys(var.extra_environment), [
      "VSS_PROJECT_ID", "VSS_REGION", "VSS_UPLOADS_BUCKET", "VSS_ARTIFACTS_BUCKET", "VSS_STAGES_TOPIC",
      "VSS_SEGMENTS_TOPIC", "VSS_DEADLINE_QUEUE", "VSS_DEADLINE_URL", "VSS_DEADLINE_SERVICE_ACCOUNT",
      "VSS_TASK_RETENTION_DAYS", "VSS_FILE_RETENTION_DAYS", "VSS_TTS_CONCURRENCY", "VSS_SEGMENT_LEASE_SECONDS",
      "VSS_SEGMENT_MAX_ATTEMPTS", "VSS_GEMINI_API_KEY", "VSS_EMBEDDING_MODEL", "VSS_EMBEDDING_DIMENSIONS",
      "VSS_CONSOLE_SECRET", "VSS_CONSOLE_IAP_AUDIENCE",
      "VSS_STORAGE_EMULATOR_HOST", "VSS_STORAGE_PUBLIC_URL", "VSS_TASKS_EMULATOR_HOST", "VSS_SIGNER_KEY_FILE",
    ])) == 0
    error_message = "extra_environment cannot set the wired names (project, region, buckets, topics, queue, deadline URL and identity, retention, the dubbing fan-out's concurrency, lease and attempts, the embedding model and length: see var.embeddings), the Gemini key and the console secret (secrets), the console's IAP audience or the local-only emulator and signer settings."
  }
}

variable "api_public" {
  description = "Let anyone reach the API function (roles/run.invoker for allUsers). The API authenticates every call itself with X-Instance-ID and X-Api-Key; set false to put it behind IAM."
  type        = bool
  default     = true
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names, which are global (<prefix>-vss-uploads, ...). Defaults to the project id."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_prefix == null || can(regex("^[a-z0-9][a-z0-9-]{1,40}$", coalesce(var.bucket_prefix, "ok")))
    error_message = "bucket_prefix must be 2-41 lowercase letters, digits or hyphens."
  }
}

variable "bucket_location" {
  description = "Location of the buckets. Defaults to the region; the upload trigger must be in the uploads bucket's location."
  type        = string
  default     = null
}

variable "storage" {
  description = "Bucket policies: days before uploads and artifacts are deleted, the soft-delete window, whether destroy may delete non-empty buckets, and Data Access audit logs for objects."
  type = object({
    uploads_expire_days           = optional(number, 30)
    artifacts_expire_days         = optional(number, 90)
    soft_delete_retention_seconds = optional(number, 604800)
    force_destroy                 = optional(bool, false)
    data_access_logs              = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.storage.uploads_expire_days >= 1 && var.storage.artifacts_expire_days >= 1
    error_message = "Expiry must be at least one day."
  }

  validation {
    condition     = var.storage.soft_delete_retention_seconds == 0 || (var.storage.soft_delete_retention_seconds >= 604800 && var.storage.soft_delete_retention_seconds <= 7776000)
    error_message = "soft_delete_retention_seconds must be 0 (off) or 7-90 days (604800-7776000)."
  }
}

variable "cors_origins" {
  description = "Browser origins allowed to PUT to signed upload URLs and GET signed download URLs (CORS on the uploads and artifacts buckets). Empty: no CORS (native edge clients do not need it)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^(https://[a-z0-9.-]+(:[0-9]+)?|http://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?)$", o))])
    error_message = "CORS origins must be https://host[:port] (or http://localhost for development); no wildcards."
  }
}

variable "firestore" {
  description = "The Firestore (native mode) database: location, point-in-time recovery (7 days of versions), the days each daily backup is kept, and what destroy does to it."
  type = object({
    location_id            = optional(string, "nam5")
    point_in_time_recovery = optional(bool, true)
    backup_retention_days  = optional(number, 14)
    delete_protection      = optional(bool, true)
    deletion_policy        = optional(string, "ABANDON")
  })
  default = {}

  validation {
    condition     = var.firestore.backup_retention_days >= 7 && var.firestore.backup_retention_days <= 98 && floor(var.firestore.backup_retention_days) == var.firestore.backup_retention_days
    error_message = "firestore.backup_retention_days must be a whole number of days from 7 to 98 (Firestore keeps a backup at most 14 weeks)."
  }

  validation {
    condition     = contains(["ABANDON", "DELETE"], var.firestore.deletion_policy)
    error_message = "firestore.deletion_policy must be ABANDON (destroy leaves the data) or DELETE."
  }
}

variable "stages_delivery" {
  description = "Push delivery of stage messages to stage_worker: attempts before a message is dead-lettered and the redelivery backoff."
  type = object({
    max_delivery_attempts   = optional(number, 8)
    minimum_backoff_seconds = optional(number, 10)
    maximum_backoff_seconds = optional(number, 600)
  })
  default = {}

  validation {
    condition     = var.stages_delivery.max_delivery_attempts >= 5 && var.stages_delivery.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be 5-100 (Pub/Sub's bounds)."
  }

  validation {
    condition = (
      var.stages_delivery.minimum_backoff_seconds >= 0 &&
      var.stages_delivery.maximum_backoff_seconds <= 600 &&
      var.stages_delivery.minimum_backoff_seconds <= var.stages_delivery.maximum_backoff_seconds
    )
    error_message = "Backoff must satisfy 0 <= minimum <= maximum <= 600 seconds."
  }
}

variable "segments_delivery" {
  description = "Push delivery of dubbing segment messages to tts_worker: attempts before a message is dead-lettered, the redelivery backoff, and the tries the code makes per segment before it fails the task naming the segment (VSS_SEGMENT_MAX_ATTEMPTS)."
  type = object({
    max_delivery_attempts   = optional(number, 8)
    minimum_backoff_seconds = optional(number, 10)
    maximum_backoff_seconds = optional(number, 120)
    segment_max_attempts    = optional(number, 5)
  })
  default = {}

  validation {
    condition     = var.segments_delivery.max_delivery_attempts >= 5 && var.segments_delivery.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be 5-100 (Pub/Sub's bounds)."
  }

  # A segment is a small part of a task that waits for all of them: a retry should come within
  # minutes, not after stage-sized backoffs.
  validation {
    condition = (
      var.segments_delivery.minimum_backoff_seconds >= 0 &&
      var.segments_delivery.maximum_backoff_seconds <= 600 &&
      var.segments_delivery.minimum_backoff_seconds <= var.segments_delivery.maximum_backoff_seconds
    )
    error_message = "Backoff must satisfy 0 <= minimum <= maximum <= 600 seconds."
  }

  # Pub/Sub also counts deliveries the code does not (refused while a dead worker's lease runs
  # out, or throttled while every tts_worker instance is busy). If it gave up first, the task
  # would fail from the dead letter without the segment's last error.
  validation {
    condition = (
      var.segments_delivery.segment_max_attempts >= 1 &&
      var.segments_delivery.segment_max_attempts <= 20 &&
      var.segments_delivery.segment_max_attempts < var.segments_delivery.max_delivery_attempts
    )
    error_message = "segment_max_attempts must be 1-20 and fewer than max_delivery_attempts."
  }
}

variable "tts_concurrency" {
  description = "Dubbing segments synthesised at once across the deployment: at most what the project's Cloud Text-to-Speech quota sustains. tts_worker's max instances x requests per instance may not exceed it (VSS_TTS_CONCURRENCY)."
  type        = number
  default     = 4

  # The same bounds as Settings.tts_concurrency.
  validation {
    condition     = var.tts_concurrency >= 1 && var.tts_concurrency <= 100 && floor(var.tts_concurrency) == var.tts_concurrency
    error_message = "tts_concurrency must be a whole number from 1 to 100."
  }
}

variable "deadline_queue" {
  description = "Rate limits and retries of the Cloud Tasks queue that delivers the per-task deadline checks."
  type = object({
    max_dispatches_per_second  = optional(number, 10)
    max_concurrent_dispatches  = optional(number, 10)
    max_attempts               = optional(number, 10)
    min_backoff_seconds        = optional(number, 10)
    max_backoff_seconds        = optional(number, 300)
    max_doublings              = optional(number, 4)
    max_retry_duration_seconds = optional(number, 3600)
  })
  default = {}

  validation {
    condition = (
      var.deadline_queue.max_dispatches_per_second > 0 && var.deadline_queue.max_dispatches_per_second <= 500 &&
      var.deadline_queue.max_concurrent_dispatches >= 1 && var.deadline_queue.max_concurrent_dispatches <= 5000
    )
    error_message = "max_dispatches_per_second must be in (0, 500] and max_concurrent_dispatches in [1, 5000]."
  }

  validation {
    condition = (
      (var.deadline_queue.max_attempts == -1 || var.deadline_queue.max_attempts >= 1) &&
      var.deadline_queue.min_backoff_seconds >= 0 &&
      var.deadline_queue.min_backoff_seconds <= var.deadline_queue.max_backoff_seconds &&
      var.deadline_queue.max_doublings >= 0
    )
    error_message = "max_attempts must be -1 (unlimited) or >= 1, and 0 <= min_backoff <= max_backoff."
  }
}

variable "alerting" {
  description = "Who is told, and when: e-mail recipients, the 5xx ratio per function and the dead-letter backlog that raise an incident."
  type = object({
    notification_emails     = optional(list(string), [])
    error_rate_threshold    = optional(number, 0.05)
    error_rate_window       = optional(number, 600)
    dead_letter_backlog     = optional(number, 0)
    dead_letter_backlog_for = optional(number, 900)
  })
  default = {}

  validation {
    condition     = var.alerting.error_rate_threshold > 0 && var.alerting.error_rate_threshold < 1
    error_message = "error_rate_threshold is a ratio in (0, 1)."
  }

  validation {
    condition     = var.alerting.error_rate_window >= 60 && var.alerting.dead_letter_backlog_for >= 60 && var.alerting.dead_letter_backlog >= 0
    error_message = "Alert windows must be at least 60 seconds and the backlog threshold >= 0."
  }

  validation {
    condition     = alltrue([for e in var.alerting.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "notification_emails must be e-mail addresses."
  }
}

variable "gemini_api_key" {
  description = "Gemini API key, written write-only to Secret Manager (never stored in state or plan). Give it (TF_VAR_gemini_api_key) together with gemini_api_key_version; leave null to add versions with gcloud instead."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "gemini_api_key_version" {
  description = "Set (1, 2, ...) to let Terraform write gemini_api_key as the secret's value and pin the functions that read it (stage_worker, tts_worker) to it; bump it to rotate. Null: Terraform does not manage the value and they read the latest version."
  type        = number
  default     = null

  validation {
    condition     = var.gemini_api_key_version == null || coalesce(var.gemini_api_key_version, 1) >= 1
    error_message = "gemini_api_key_version must be a positive integer."
  }
}

variable "console_domain" {
  description = "Domain name of the operations console, served at https://<console_domain>/console/. Point its DNS A record at the console_address output: the Google-managed certificate is issued once it resolves there."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.console_domain))
    error_message = "console_domain must be a lowercase DNS name such as ops.example.com (no scheme, no path)."
  }
}

variable "console_operators" {
  description = "Who may open the operations console through Identity-Aware Proxy (roles/iap.httpsResourceAccessor on its backend service): `user:EMAIL` or `group:EMAIL`. The list is the whole allow-list: an apply removes anyone granted that role on the backend outside Terraform. With IAP's Google-managed OAuth client they must belong to the project's organization."
  type        = list(string)

  validation {
    condition     = length(var.console_operators) > 0 && alltrue([for m in var.console_operators : can(regex("^(user|group):[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", m))])
    error_message = "console_operators needs at least one member, each user:EMAIL or group:EMAIL."
  }
}

variable "console_secret_version" {
  description = "Version of VSS_CONSOLE_SECRET, which Terraform generates and writes write-only (never in state or plan). Bump it to rotate the secret: every console session ends."
  type        = number
  default     = 1

  validation {
    condition     = var.console_secret_version >= 1 && floor(var.console_secret_version) == var.console_secret_version
    error_message = "console_secret_version must be a positive whole number."
  }
}
