terraform {
  # 1.11: write-only arguments (the Gemini key never lands in state) and ephemeral variables.
  required_version = ">= 1.11, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Written against the 7.x documentation. Commit .terraform.lock.hcl after the first
      # `terraform init` on a machine with network; bump the major only after a clean plan.
      version = ">= 7.0, < 8.0"
    }
    random = {
      source = "hashicorp/random"
      # 3.7: the ephemeral random_password (the console secret never lands in state).
      version = ">= 3.7, < 4.0"
    }
  }
}
