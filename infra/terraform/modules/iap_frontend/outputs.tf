output "ip_address" {
  description = "The load balancer's global IP address (the A record of each domain)."
  value       = google_compute_global_address.this.address
}

output "backend_service" {
  description = "Name of the IAP-enabled backend service."
  value       = google_compute_backend_service.this.name
}

output "iap_audience" {
  description = "Audience of the assertions IAP signs for this backend: /projects/NUMBER/global/backendServices/ID."
  value       = "/projects/${var.project_number}/global/backendServices/${google_compute_backend_service.this.generated_id}"
}
