# State lives in a GCS bucket (versioned, so a bad apply can be rolled back to an earlier state).
# Partial configuration: the bucket and prefix come from a backend config file at init time,
#   terraform -chdir=infra/terraform init -backend-config=backend.hcl
# (see backend.hcl.example and the Deploy section of the README). `make deploy` does this.
terraform {
  backend "gcs" {}
}
