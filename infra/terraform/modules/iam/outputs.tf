output "emails" {
  description = "Service account e-mails by key."
  value       = { for k, sa in google_service_account.this : k => sa.email }
}

output "ids" {
  description = "Service account ids (projects/P/serviceAccounts/EMAIL) by key."
  value       = { for k, sa in google_service_account.this : k => sa.id }
}

output "function_invokers" {
  description = "For each function key, the members (by service account key) that get roles/run.invoker on it."
  value = {
    for fn in var.function_keys : fn => {
      for sa, g in var.grants : sa => local.members[sa] if contains(g.invokes, fn)
    }
  }
}
