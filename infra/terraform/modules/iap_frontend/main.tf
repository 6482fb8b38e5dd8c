# An external HTTPS load balancer in front of one serverless (Cloud Run) service, with
# Identity-Aware Proxy on its backend service and an allow-list of who may pass:
#
#   https://DOMAIN ──► forwarding rule :443 ──► HTTPS proxy (managed certificate, TLS >= 1.2)
#     ──► URL map ──► backend service (IAP) ──► serverless NEG ──► Cloud Run service
#
# IAP signs each request it lets through (X-Goog-IAP-JWT-Assertion, audience `iap_audience`),
# which the service checks itself. Keeping the run.app URL closed is the service's part: its
# ingress admits the load balancer only, and only IAP's service agent may invoke it.

resource "google_compute_region_network_endpoint_group" "this" {
  project               = var.project_id
  region                = var.region
  name                  = "${var.name}-neg"
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.cloud_run_service
  }
}

resource "google_compute_backend_service" "this" {
  project               = var.project_id
  name                  = "${var.name}-backend"
  description           = "${var.cloud_run_service} behind Identity-Aware Proxy."
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"

  backend {
    group = google_compute_region_network_endpoint_group.this.id
  }

  # No OAuth client given: IAP uses its Google-managed client (the IAP OAuth Admin API that
  # created clients is shut down), which admits users of the project's organization.
  iap {
    enabled = true
  }

  # Every request with its status: who reached the service is in IAP's audit logs.
  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_url_map" "this" {
  project         = var.project_id
  name            = "${var.name}-urls"
  default_service = google_compute_backend_service.this.id
}

# Named after its domains: a change of domain creates the new certificate before the old one
# is deleted, under another name.
resource "google_compute_managed_ssl_certificate" "this" {
  project = var.project_id
  name    = "${var.name}-${substr(sha256(join(",", var.domains)), 0, 8)}"

  managed {
    domains = var.domains
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "this" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "this" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.this.id
  ssl_certificates = [google_compute_managed_ssl_certificate.this.id]
  ssl_policy       = google_compute_ssl_policy.this.id
}

resource "google_compute_global_address" "this" {
  project = var.project_id
  name    = "${var.name}-ip"
}

# HTTPS only: nothing listens on port 80.
resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.this.address
  port_range            = "443"
  target                = google_compute_target_https_proxy.this.id
}

# Authoritative on purpose: var.members is the whole allow-list of this backend, which only
# this module creates, so a grant made by hand is removed at the next apply instead of
# silently letting someone in.
resource "google_iap_web_backend_service_iam_binding" "operators" {
  project             = var.project_id
  web_backend_service = google_compute_backend_service.this.name
  role                = "roles/iap.httpsResourceAccessor"
  members             = var.members
}
