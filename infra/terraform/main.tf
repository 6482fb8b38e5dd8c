# Visify Story Studio Cloud: the whole pipeline in one project.
#
#   edge ──► api (HTTP) ──► Firestore, buckets (signed URLs), Pub/Sub vss-stages, Cloud Tasks
#   uploads bucket ──Eventarc finalized──► on_upload
#   vss-stages ──push (OIDC)──► stage_worker ──after N attempts──► vss-stages-dead ──push──► dead_letter
#   stage_worker (dubbing plan) ──one per segment──► vss-segments ──push (OIDC)──► tts_worker
#     tts_worker: Cloud TTS, WAV to artifacts; the last segment ──► vss-stages (assembly)
#     ──after N attempts──► vss-segments-dead ──push──► dead_letter
#   vss-deadlines (Cloud Tasks, OIDC) ──► deadline
#   operators ──HTTPS──► load balancer (IAP: console_operators) ──serverless NEG──► console
#
# Every name is derived here, once. tests/infra checks these locals against the code
# (shared/vss/config.py, emulators/topology.py, functions/, the Firestore queries).

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = "vss", managed-by = "terraform" }, var.labels)
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # --- names the code uses (Settings defaults, emulators/topology.py) ----------------------
  topics = {
    stages        = "vss-stages"        # Settings.stages_topic
    stages_dead   = "vss-stages-dead"   # dead-letter topic of the stages push subscription
    segments      = "vss-segments"      # Settings.segments_topic
    segments_dead = "vss-segments-dead" # dead-letter topic of the segments push subscription
  }
  # The local stack's vss-gcs-notifications topic has no counterpart: Eventarc delivers the
  # storage events in production.
  subscriptions = {
    stages_push        = "vss-stages-push"        # vss-stages -> stage_worker
    stages_dead_push   = "vss-stages-dead-push"   # vss-stages-dead -> dead_letter
    segments_push      = "vss-segments-push"      # vss-segments -> tts_worker
    segments_dead_push = "vss-segments-dead-push" # vss-segments-dead -> dead_letter
  }
  queues = {
    deadlines = "vss-deadlines" # Settings.deadline_queue
  }
  # Bucket names are global: the code's base names get a per-project prefix and reach the
  # functions through VSS_UPLOADS_BUCKET / VSS_ARTIFACTS_BUCKET.
  bucket_base_names = {
    uploads   = "vss-uploads"          # Settings.uploads_bucket
    artifacts = "vss-artifacts"        # Settings.artifacts_bucket
    sources   = "vss-function-sources" # function source archives (Terraform only)
  }
  bucket_prefix   = coalesce(var.bucket_prefix, var.project_id)
  buckets         = { for k, base in local.bucket_base_names : k => "${local.bucket_prefix}-${base}" }
  bucket_location = coalesce(var.bucket_location, var.region)

  gemini_secret_id  = "vss-gemini-api-key"
  console_secret_id = "vss-console-secret"

  # --- functions ---------------------------------------------------------------------------
  # One entry per functions/<key>/main.py: the decorated entry point, how it is reached, its
  # ingress, its secret environment variables (name = key in local.secrets) and its default
  # size (override with var.function_settings) and, optionally, `max_requests`: a bound on
  # max_instances x concurrency (an API quota) the functions module refuses to exceed. Only the
  # public API takes traffic from outside; Pub/Sub push, Eventarc and Cloud Tasks in the same
  # project count as internal, and the console takes it only through its load balancer.
  #   http    - plain HTTPS; api is public (it checks X-Instance-ID/X-Api-Key itself),
  #             deadline is called only by Cloud Tasks with an OIDC token, console only through
  #             the IAP-enabled load balancer of module.console_frontend.
  #   storage - Eventarc trigger on google.cloud.storage.object.v1.finalized in the uploads bucket.
  #   push    - a Pub/Sub push subscription with an OIDC token (see the messaging module for why
  #             not an Eventarc Pub/Sub trigger).
  functions = {
    api = {
      ingress         = "ALLOW_ALL"
      secrets         = { GEMINI_API_KEY = "gemini" } # embeds the query of a vector search
      entry_point     = "api"
      trigger         = "http"
      description     = "Edge API: uploads, tasks, signed downloads (Flask, HTTP)."
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 60
      max_instances   = 20
      min_instances   = 0
      concurrency     = 8
    }
    on_upload = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      secrets         = {}
      entry_point     = "on_upload"
      trigger         = "storage"
      description     = "Validates and records each object finalized in the uploads bucket."
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 120
      max_instances   = 10
      min_instances   = 0
      concurrency     = 1
    }
    stage_worker = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      secrets         = { GEMINI_API_KEY = "gemini" }
      entry_point     = "stage_worker"
      trigger         = "push"
      description     = "Runs one task stage (narration, dubbing, editing) per stage message."
      memory          = "2Gi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 10
      min_instances   = 0
      concurrency     = 1
    }
    dead_letter = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      secrets         = {}
      entry_point     = "on_dead_letter"
      trigger         = "push"
      description     = "Fails the task of a stage message that ran out of delivery attempts."
      memory          = "512Mi"
      cpu             = "0.333"
      timeout_seconds = 60
      max_instances   = 3
      min_instances   = 0
      concurrency     = 1
    }
    # One dubbing segment per request, so the instances are the segments synthesised at once:
    # as many as the TTS quota allows. The timeout is a synthesis of up to two minutes; it is
    # also how long a worker owns its segment (VSS_SEGMENT_LEASE_SECONDS below).
    tts_worker = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      secrets         = { GEMINI_API_KEY = "gemini" } # the optional audio director
      entry_point     = "tts_worker"
      trigger         = "push"
      description     = "Synthesises one dubbing segment per segment message (Cloud Text-to-Speech)."
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 120
      max_instances   = var.tts_concurrency
      min_instances   = 0
      concurrency     = 1
      max_requests    = var.tts_concurrency
    }
    deadline = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      secrets         = {}
      entry_point     = "deadline_check"
      trigger         = "http"
      description     = "Fails a task still unfinished at its deadline (called by Cloud Tasks)."
      memory          = "1Gi" # as on_upload: it may run the check of an upload whose event was lost
      cpu             = "0.333"
      timeout_seconds = 120
      max_instances   = 5
      min_instances   = 0
      concurrency     = 1
    }
    # The operators' console. Its ingress admits the load balancer and nothing from outside, so
    # the run.app URL stays closed; only IAP's service agent may invoke it (invokers below), and
    # the code itself accepts only IAP's signed assertion for its backend
    # (VSS_CONSOLE_IAP_AUDIENCE in local.function_environment).
    console = {
      ingress         = "ALLOW_INTERNAL_AND_GCLB"
      secrets         = { VSS_CONSOLE_SECRET = "console" } # signs its sessions and CSRF tokens
      entry_point     = "console"
      trigger         = "http"
      description     = "Operations console (Flask, HTTP), reached through Identity-Aware Proxy only."
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 60
      max_instances   = 3
      min_instances   = 0
      concurrency     = 8
    }
  }
  function_names     = { for k in keys(local.functions) : k => "vss-${replace(k, "_", "-")}" }
  function_overrides = { for k, o in var.function_settings : k => { for attr, v in o : attr => v if v != null } }
  function_config    = { for k, f in local.functions : k => merge(f, try(local.function_overrides[k], {})) }

  # Cloud Run's deterministic URL (https://SERVICE-PROJECT_NUMBER.REGION.run.app). The deadline
  # function reschedules its own checks, so its URL cannot come from its own resource. No path:
  # Cloud Tasks uses the URL as the OIDC audience, which Cloud Run compares with its own URL.
  deadline_url = "https://${local.function_names.deadline}-${data.google_project.this.number}.${var.region}.run.app"

  # --- identities and what each may do -----------------------------------------------------
  # One service account per function, plus the identities that call functions. Keep in step
  # with the table in infra/terraform/README.md: tests/infra checks both ways.
  service_accounts = {
    api              = { account_id = "vss-api", display_name = "VSS api function" }
    on_upload        = { account_id = "vss-on-upload", display_name = "VSS on_upload function" }
    stage_worker     = { account_id = "vss-stage-worker", display_name = "VSS stage_worker function" }
    tts_worker       = { account_id = "vss-tts-worker", display_name = "VSS tts_worker function" }
    dead_letter      = { account_id = "vss-dead-letter", display_name = "VSS dead_letter function" }
    deadline         = { account_id = "vss-deadline", display_name = "VSS deadline function" }
    console          = { account_id = "vss-console", display_name = "VSS console function" }
    deadline_invoker = { account_id = "vss-deadline-invoker", display_name = "VSS Cloud Tasks OIDC identity for deadline checks" }
    pubsub_push      = { account_id = "vss-pubsub-push", display_name = "VSS Pub/Sub push OIDC identity" }
    eventarc         = { account_id = "vss-eventarc", display_name = "VSS Eventarc trigger identity" }
    build            = { account_id = "vss-build", display_name = "VSS Cloud Build identity for function builds" }
  }

  # Roles by scope: project (only where no narrower scope exists), buckets, topics, queues,
  # secrets and service accounts by key; `invokes` = roles/run.invoker on those functions.
  grants = {
    api = {
      project = ["roles/datastore.user"] # Firestore: tenants, instances, files, tasks, idempotency keys, usage ledger (quotas)
      buckets = {
        uploads   = ["roles/storage.objectCreator", "roles/storage.objectViewer"] # multipart writes, signed PUT/GET
        artifacts = ["roles/storage.objectViewer"]                                # exists + signed GET
      }
      topics = {
        stages   = ["roles/pubsub.publisher"] # first stage of a new task
        segments = ["roles/pubsub.publisher"] # a resumed fan-out's unfinished segments
      }
      queues = { deadlines = ["roles/cloudtasks.enqueuer"] } # first check of a new task
      service_accounts = {
        api              = ["roles/iam.serviceAccountTokenCreator"] # signBlob: V4 signed URLs without a key
        deadline_invoker = ["roles/iam.serviceAccountUser"]         # tasks carry an OIDC token of that identity
      }
      secrets = { gemini = ["roles/secretmanager.secretAccessor"] } # GEMINI_API_KEY (query embeddings)
    }
    on_upload = {
      project = ["roles/datastore.user"]                     # files, waiting tasks
      buckets = { uploads = ["roles/storage.objectViewer"] } # reads what landed
      topics  = { stages = ["roles/pubsub.publisher"] }      # starts tasks that waited for the file
    }
    stage_worker = {
      project = ["roles/datastore.user"] # task state, leases
      buckets = {
        uploads   = ["roles/storage.objectViewer"] # datasets and scripts the edge uploaded
        artifacts = ["roles/storage.objectUser"]   # reads earlier outputs, writes the attempt's files
      }
      topics = {
        stages   = ["roles/pubsub.publisher"] # next stage
        segments = ["roles/pubsub.publisher"] # one message per dubbing segment
      }
      queues           = { deadlines = ["roles/cloudtasks.enqueuer"] } # the fan-out's watchdog check
      service_accounts = { deadline_invoker = ["roles/iam.serviceAccountUser"] }
      secrets          = { gemini = ["roles/secretmanager.secretAccessor"] } # GEMINI_API_KEY
    }
    # Cloud Text-to-Speech needs no grant: text:synthesize checks no IAM permission, only that
    # the API is enabled in the caller's project (its roles cover long-audio synthesis only).
    tts_worker = {
      project = ["roles/datastore.user"] # segment state, leases, the fan-in transaction
      # A segment's request is on its record: the worker reads no upload (the ledger shows it).
      buckets = { artifacts = ["roles/storage.objectUser"] }        # writes the attempt's WAV
      topics  = { stages = ["roles/pubsub.publisher"] }             # the last segment starts assembly
      secrets = { gemini = ["roles/secretmanager.secretAccessor"] } # GEMINI_API_KEY (audio director)
    }
    dead_letter = {
      project = ["roles/datastore.user"] # fails the task
    }
    deadline = {
      project = ["roles/datastore.user"] # fails the task
      topics = {
        stages   = ["roles/pubsub.publisher"] # the watchdog republishes a stalled stage
        segments = ["roles/pubsub.publisher"] # ... and stalled segments
      }
      queues           = { deadlines = ["roles/cloudtasks.enqueuer"] } # the next check (watchdog)
      service_accounts = { deadline_invoker = ["roles/iam.serviceAccountUser"] }
      buckets          = { uploads = ["roles/storage.objectViewer"] } # checks an upload whose event was lost
    }
    # Narrower than the api: no uploads bucket, no Gemini key, artifacts read-only. Everything
    # it changes goes through the service layer: Firestore, and a resume's messages and check.
    console = {
      project = ["roles/datastore.user"]                       # tenants, instances, tasks, segments, the audit log
      buckets = { artifacts = ["roles/storage.objectViewer"] } # signed GET links to a task's artifacts
      topics = {
        stages   = ["roles/pubsub.publisher"] # a resumed task's failed stage
        segments = ["roles/pubsub.publisher"] # a resumed fan-out's unfinished segments
      }
      # A resumed task's next check; the queue's statistics for the health page.
      queues = { deadlines = ["roles/cloudtasks.enqueuer", "roles/cloudtasks.viewer"] }
      service_accounts = {
        console          = ["roles/iam.serviceAccountTokenCreator"] # signBlob: V4 signed URLs without a key
        deadline_invoker = ["roles/iam.serviceAccountUser"]         # the check's OIDC identity
      }
      secrets = { console = ["roles/secretmanager.secretAccessor"] } # VSS_CONSOLE_SECRET
    }
    deadline_invoker = {
      invokes = ["deadline"]
    }
    pubsub_push = {
      invokes = ["stage_worker", "tts_worker", "dead_letter"]
    }
    eventarc = {
      project = ["roles/eventarc.eventReceiver"] # receive the storage events (no narrower scope)
      invokes = ["on_upload"]
    }
    build = {
      project = ["roles/run.builder"] # Cloud Build: read the source, write logs and the image
    }
  }

  # --- environment -------------------------------------------------------------------------
  # The VSS_* names of shared/vss/config.py (Settings, env prefix VSS_). Local-only settings
  # (emulator hosts, the signer key file) are never set here: production signs through IAM.
  wired_environment = {
    VSS_PROJECT_ID       = var.project_id
    VSS_REGION           = var.region
    VSS_UPLOADS_BUCKET   = local.buckets.uploads
    VSS_ARTIFACTS_BUCKET = local.buckets.artifacts
    VSS_STAGES_TOPIC     = local.topics.stages
    VSS_SEGMENTS_TOPIC   = local.topics.segments
    VSS_DEADLINE_QUEUE   = local.queues.deadlines
    VSS_DEADLINE_URL     = local.deadline_url
    # Records live as long as the objects they describe.
    VSS_TASK_RETENTION_DAYS = tostring(var.storage.artifacts_expire_days)
    VSS_FILE_RETENTION_DAYS = tostring(var.storage.uploads_expire_days)
    # Identity of the OIDC token Cloud Tasks attaches to each deadline check.
    VSS_DEADLINE_SERVICE_ACCOUNT = module.iam.emails.deadline_invoker
    # The dubbing fan-out. A worker owns its segment as long as its request may run, so a
    # segment is retaken only once its worker can no longer be writing it; the code gives up on
    # a segment before Pub/Sub does (var.segments_delivery), so the task fails with the cause.
    VSS_TTS_CONCURRENCY       = tostring(var.tts_concurrency)
    VSS_SEGMENT_LEASE_SECONDS = tostring(local.function_config.tts_worker.timeout_seconds)
    VSS_SEGMENT_MAX_ATTEMPTS  = tostring(var.segments_delivery.segment_max_attempts)
    # Story indexes: embedded with this model (empty: lexical), vectors as long as the vector
    # index above is built for.
    VSS_EMBEDDING_MODEL      = var.embeddings.model == null ? "" : var.embeddings.model
    VSS_EMBEDDING_DIMENSIONS = tostring(var.embeddings.dimensions)
  }
  # Wired names last: neither app_settings nor extra_environment can override them.
  app_environment = merge(
    var.extra_environment,
    { for k, v in var.app_settings : "VSS_${upper(k)}" => tostring(v) if v != null },
    local.wired_environment,
  )
  # Settings one function alone reads, on top of app_environment: the console trusts only the
  # IAP assertions made for its own backend service.
  function_environment = {
    console = {
      VSS_CONSOLE_IAP_AUDIENCE = module.console_frontend.iap_audience
    }
  }
  # IAP calls the console with an ID token of its service agent (X-Serverless-Authorization).
  iap_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-iap.iam.gserviceaccount.com"

  # Secrets the functions read, by key (see local.functions[*].secrets).
  secrets = {
    gemini = {
      secret  = google_secret_manager_secret.gemini.secret_id
      version = var.gemini_api_key_version == null ? "latest" : google_secret_manager_secret_version.gemini[0].version
    }
    # Pinned to the version Terraform wrote: bumping console_secret_version redeploys the console.
    console = {
      secret  = google_secret_manager_secret.console.secret_id
      version = google_secret_manager_secret_version.console.version
    }
  }

  # Composite indexes the queries in shared/vss/adapters/firestore_*.py need (single-field
  # queries such as instances by tenant_id use the automatic indexes).
  firestore_indexes = {
    # FirestoreTaskRepository.list_for_tenant: tenant_id == X order by created desc, __name__ desc
    tasks_by_tenant_newest_first = {
      collection = "tasks"
      fields = [
        { path = "tenant_id", order = "ASCENDING" },
        { path = "created", order = "DESCENDING" },
        { path = "__name__", order = "DESCENDING" },
      ]
    }
    # FirestoreTaskRepository.count_created_after and oldest_created_after (the tasks-per-hour
    # quota): tenant_id == X and created > an hour ago, counted or oldest first
    tasks_by_tenant_oldest_first = {
      collection = "tasks"
      fields = [
        { path = "tenant_id", order = "ASCENDING" },
        { path = "created", order = "ASCENDING" },
      ]
    }
    # FirestoreTaskRepository.list_all (the console's task list): any of status, task_type,
    # tenant_id == X, order by created desc, __name__ desc. Firestore merges these one-field
    # indexes (and tasks_by_tenant_newest_first) for every combination of the filters.
    tasks_by_status_newest_first = {
      collection = "tasks"
      fields = [
        { path = "status", order = "ASCENDING" },
        { path = "created", order = "DESCENDING" },
        { path = "__name__", order = "DESCENDING" },
      ]
    }
    tasks_by_type_newest_first = {
      collection = "tasks"
      fields = [
        { path = "task_type", order = "ASCENDING" },
        { path = "created", order = "DESCENDING" },
        { path = "__name__", order = "DESCENDING" },
      ]
    }
    # FirestoreTaskRepository.latest_failures (the console's deadline failures): status == FAILED
    # and error.code == X, order by modified desc
    tasks_failed_by_code_latest_first = {
      collection = "tasks"
      fields = [
        { path = "status", order = "ASCENDING" },
        { path = "error.code", order = "ASCENDING" },
        { path = "modified", order = "DESCENDING" },
      ]
    }
    # FirestoreTaskRepository.waiting_on: waiting_on array_contains X and status == Y
    tasks_waiting_on_file = {
      collection = "tasks"
      fields = [
        { path = "waiting_on", array_config = "CONTAINS" },
        { path = "status", order = "ASCENDING" },
      ]
    }
    # FirestoreUsageLedger.days (firestore_usage.py) for one tenant: tenant_id == X and
    # since <= day <= until (every tenant's days need only day's automatic index).
    usage_days_by_tenant = {
      collection = "usage_days"
      fields = [
        { path = "tenant_id", order = "ASCENDING" },
        { path = "day", order = "ASCENDING" },
      ]
    }
  }

  # Vector indexes of the find_nearest queries in shared/vss/adapters/firestore_vectors.py: each
  # serves exactly one query shape, its equality pre-filters (in order) then the vector field
  # with the stored vectors' length. FirestoreSceneVectors.nearest: scope == X, nearest to the
  # query's embedding (COSINE is chosen by the query; the index is the same for any distance).
  # Its dimension is VSS_EMBEDDING_DIMENSIONS below, from the same variable.
  firestore_vector_indexes = {
    scene_vectors_by_scope = {
      collection = "scene_vectors"
      prefilter  = ["scope"]
      field      = "embedding"
      dimension  = var.embeddings.dimensions
    }
  }

  # TTL policies: Firestore deletes a document within about a day after its `expire_at`
  # timestamp has passed. The code writes it from VSS_TASK_RETENTION_DAYS and
  # VSS_FILE_RETENTION_DAYS (wired below to the buckets' lifecycle), and copies a task's onto
  # each tasks/{id}/plans/{plan}/segments document: TTL does not
  # cascade to subcollections (a TTL field is a collection-group setting). An idempotency
  # key of task creation expires 24 h after its first use (vss.domain.idempotency.LIFETIME;
  # the code ignores an expired key until it is deleted). An asset's story index record expires
  # with the deploy task whose files it names, and so do the scene vectors of that deploy. The
  # usage ledger's daily counters expire 400 days after their day
  # (vss.domain.usage.LEDGER_RETENTION). A dead letter's record is kept 30 days
  # (vss.domain.dead_letters.RETENTION).
  firestore_ttl = {
    tasks            = { collection = "tasks", field = "expire_at" }
    files            = { collection = "files", field = "expire_at" }
    segments         = { collection = "segments", field = "expire_at" }
    idempotency_keys = { collection = "idempotency_keys", field = "expire_at" }
    assets           = { collection = "assets", field = "expire_at" }
    scene_vectors    = { collection = "scene_vectors", field = "expire_at" }
    usage_days       = { collection = "usage_days", field = "expire_at" }
    dead_letters     = { collection = "dead_letters", field = "expire_at" }
  }

  services = toset([
    "artifactregistry.googleapis.com",     # function images
    "cloudbuild.googleapis.com",           # function builds
    "cloudfunctions.googleapis.com",       # the functions
    "cloudresourcemanager.googleapis.com", # project lookups
    "cloudtasks.googleapis.com",           # deadline checks
    "compute.googleapis.com",              # the console's load balancer
    "eventarc.googleapis.com",             # upload trigger
    "firestore.googleapis.com",            # the database
    "generativelanguage.googleapis.com",   # Gemini (API key)
    "iam.googleapis.com",                  # service accounts
    "iap.googleapis.com",                  # Identity-Aware Proxy in front of the console
    "iamcredentials.googleapis.com",       # signBlob for signed URLs, OIDC tokens
    "logging.googleapis.com",
    "monitoring.googleapis.com",    # alert policies
    "pubsub.googleapis.com",        # stage messages
    "run.googleapis.com",           # functions run on Cloud Run
    "secretmanager.googleapis.com", # Gemini key
    "storage.googleapis.com",       # buckets
    "texttospeech.googleapis.com",  # Cloud TTS dubbing
  ])
}

resource "google_project_service" "this" {
  for_each = local.services

  project = var.project_id
  service = each.value
  # Turning an API off on destroy would break anything else in the project that uses it.
  disable_on_destroy = false
}

# The Gemini key. Its value is either written by Terraform write-only (gemini_api_key with
# gemini_api_key_version) or added by ops with `gcloud secrets versions add`.
resource "google_secret_manager_secret" "gemini" {
  project   = var.project_id
  secret_id = local.gemini_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "gemini" {
  count = var.gemini_api_key_version == null ? 0 : 1

  secret                 = google_secret_manager_secret.gemini.id
  secret_data_wo         = var.gemini_api_key
  secret_data_wo_version = var.gemini_api_key_version
}

# The console's VSS_CONSOLE_SECRET (sessions, CSRF tokens). Nobody needs to know it, so
# Terraform makes it: an ephemeral random value written write-only, in neither state nor plan.
# A new value is written only when console_secret_version changes (rotation ends every session).
resource "google_secret_manager_secret" "console" {
  project   = var.project_id
  secret_id = local.console_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

ephemeral "random_password" "console_secret" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "console" {
  secret                 = google_secret_manager_secret.console.id
  secret_data_wo         = ephemeral.random_password.console_secret.result
  secret_data_wo_version = var.console_secret_version
}

module "storage" {
  source = "./modules/storage"

  project_id = var.project_id
  location   = local.bucket_location
  buckets = {
    uploads = {
      name              = local.buckets.uploads
      expire_after_days = var.storage.uploads_expire_days
      cors_methods      = ["PUT", "GET", "HEAD"] # signed PUT from the edge, signed GET
    }
    artifacts = {
      name              = local.buckets.artifacts
      expire_after_days = var.storage.artifacts_expire_days
      cors_methods      = ["GET", "HEAD"] # signed GET of results
    }
    sources = {
      name = local.buckets.sources
      # Content-addressed archives Terraform replaces itself; no expiry, no CORS.
    }
  }
  cors_origins                  = var.cors_origins
  soft_delete_retention_seconds = var.storage.soft_delete_retention_seconds
  force_destroy                 = var.storage.force_destroy
  data_access_logs              = var.storage.data_access_logs

  depends_on = [google_project_service.this]
}

module "firestore" {
  source = "./modules/firestore"

  project_id             = var.project_id
  location_id            = var.firestore.location_id
  point_in_time_recovery = var.firestore.point_in_time_recovery
  backup_retention_days  = var.firestore.backup_retention_days
  delete_protection      = var.firestore.delete_protection
  deletion_policy        = var.firestore.deletion_policy
  composite_indexes      = local.firestore_indexes
  vector_indexes         = local.firestore_vector_indexes
  ttl_fields             = local.firestore_ttl

  depends_on = [google_project_service.this]
}

module "tasks" {
  source = "./modules/tasks"

  project_id = var.project_id
  location   = var.region
  queues = {
    deadlines = merge(var.deadline_queue, { name = local.queues.deadlines })
  }

  depends_on = [google_project_service.this]
}

module "iam" {
  source = "./modules/iam"

  project_id       = var.project_id
  project_number   = data.google_project.this.number
  service_accounts = local.service_accounts
  grants           = local.grants
  function_keys    = keys(local.functions)
  buckets          = module.storage.names
  topics           = module.messaging.topic_names
  queues           = module.tasks.names
  queue_location   = var.region
  secrets          = { for k, v in local.secrets : k => v.secret }
  push_identity    = "pubsub_push"

  depends_on = [google_project_service.this]
}

module "functions" {
  source = "./modules/functions"

  project_id            = var.project_id
  region                = var.region
  runtime               = var.runtime
  sources_bucket        = module.storage.names.sources
  build_service_account = module.iam.ids.build
  functions = {
    for k, f in local.function_config : k => {
      name                  = local.function_names[k]
      description           = f.description
      entry_point           = f.entry_point
      source                = var.function_sources[k].path
      source_sha256         = var.function_sources[k].sha256
      service_account_email = module.iam.emails[k]
      memory                = f.memory
      cpu                   = f.cpu
      timeout_seconds       = f.timeout_seconds
      max_instances         = f.max_instances
      min_instances         = f.min_instances
      concurrency           = f.concurrency
      max_requests          = try(f.max_requests, null)
      ingress               = f.ingress
      # Each function also gets the digest of its source archive (Settings.source_sha256:
      # the console's health page shows which archive runs).
      environment = merge(local.app_environment, try(local.function_environment[k], {}),
      { VSS_SOURCE_SHA256 = var.function_sources[k].sha256 })
      secret_environment = { for name, secret in f.secrets : name => local.secrets[secret] }
      storage_trigger = f.trigger == "storage" ? {
        bucket                = module.storage.names.uploads
        region                = lower(local.bucket_location)
        service_account_email = module.iam.emails.eventarc
        retry                 = true # Eventarc retries with backoff for 24 h; the code drops events older than VSS_EVENT_MAX_AGE_SECONDS
      } : null
    }
  }
  invokers = {
    for k in keys(local.functions) : k => merge(
      module.iam.function_invokers[k],
      { for name, member in { public = "allUsers" } : name => member if k == "api" && var.api_public },
      { for name, member in { iap = local.iap_agent } : name => member if k == "console" },
    )
  }

  # Grants first: a revision whose identity cannot read its secret, or a trigger whose
  # identity cannot receive events, fails to deploy.
  depends_on = [module.iam]
}

# The console's front door: an external HTTPS load balancer whose backend service has IAP on,
# open to var.console_operators alone. IAP sits on the backend service, not on Cloud Run itself:
# the google provider 7.x offers Cloud Run's direct IAP integration (`iap_enabled`) only on
# google_cloud_run_v2_service, while the console is a Cloud Functions (2nd gen) function whose
# Cloud Run service that resource owns; the direct integration also requires an organization.
# The IAP service agent must exist before the first apply (README, Deploy).
module "console_frontend" {
  source = "./modules/iap_frontend"

  project_id     = var.project_id
  project_number = data.google_project.this.number
  region         = var.region
  name           = local.function_names.console
  # A 2nd gen function runs as the Cloud Run service of its own name. Named here rather than
  # taken from module.functions, whose console needs this module's audience in its environment.
  cloud_run_service = local.function_names.console
  domains           = [var.console_domain]
  members           = var.console_operators

  depends_on = [google_project_service.this]
}

module "messaging" {
  source = "./modules/messaging"

  project_id     = var.project_id
  project_number = data.google_project.this.number
  topics         = local.topics
  push_subscriptions = {
    stages_push = {
      name          = local.subscriptions.stages_push
      topic         = "stages"
      push_endpoint = module.functions.uris.stage_worker
      # Pub/Sub waits this long for the answer: the worker's whole timeout.
      ack_deadline_seconds    = min(600, local.function_config.stage_worker.timeout_seconds + 30)
      minimum_backoff_seconds = var.stages_delivery.minimum_backoff_seconds
      maximum_backoff_seconds = var.stages_delivery.maximum_backoff_seconds
      dead_letter = {
        topic                 = "stages_dead"
        max_delivery_attempts = var.stages_delivery.max_delivery_attempts
      }
    }
    stages_dead_push = {
      name                    = local.subscriptions.stages_dead_push
      topic                   = "stages_dead"
      push_endpoint           = module.functions.uris.dead_letter
      ack_deadline_seconds    = min(600, local.function_config.dead_letter.timeout_seconds + 30)
      minimum_backoff_seconds = 10
      maximum_backoff_seconds = 600
      dead_letter             = null # kept 7 days and retried; the backlog alert fires first
    }
    segments_push = {
      name                    = local.subscriptions.segments_push
      topic                   = "segments"
      push_endpoint           = module.functions.uris.tts_worker
      ack_deadline_seconds    = min(600, local.function_config.tts_worker.timeout_seconds + 30)
      minimum_backoff_seconds = var.segments_delivery.minimum_backoff_seconds
      maximum_backoff_seconds = var.segments_delivery.maximum_backoff_seconds
      dead_letter = {
        topic                 = "segments_dead"
        max_delivery_attempts = var.segments_delivery.max_delivery_attempts
      }
    }
    segments_dead_push = {
      name                    = local.subscriptions.segments_dead_push
      topic                   = "segments_dead"
      push_endpoint           = module.functions.uris.dead_letter
      ack_deadline_seconds    = min(600, local.function_config.dead_letter.timeout_seconds + 30)
      minimum_backoff_seconds = 10
      maximum_backoff_seconds = 600
      dead_letter             = null # kept 7 days and retried; the backlog alert fires first
    }
  }
  push_service_account_email = module.iam.emails.pubsub_push

  depends_on = [google_project_service.this]
}

module "monitoring" {
  source = "./modules/monitoring"

  project_id          = var.project_id
  notification_emails = var.alerting.notification_emails
  function_services   = module.functions.services
  error_rate = {
    threshold      = var.alerting.error_rate_threshold
    window_seconds = var.alerting.error_rate_window
  }
  dead_letters = {
    stages = {
      messages            = "stage"
      worker              = "stage_worker"
      source_subscription = module.messaging.subscription_names.stages_push
      subscription        = module.messaging.subscription_names.stages_dead_push
      backlog_threshold   = var.alerting.dead_letter_backlog
      backlog_for_seconds = var.alerting.dead_letter_backlog_for
    }
    segments = {
      messages            = "dubbing segment"
      worker              = "tts_worker"
      source_subscription = module.messaging.subscription_names.segments_push
      subscription        = module.messaging.subscription_names.segments_dead_push
      backlog_threshold   = var.alerting.dead_letter_backlog
      backlog_for_seconds = var.alerting.dead_letter_backlog_for
    }
  }

  depends_on = [google_project_service.this]
}
