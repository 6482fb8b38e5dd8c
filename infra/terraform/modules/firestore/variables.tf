variable "project_id" {
  description = "Project of the database."
  type        = string
}

variable "database_name" {
  description = "Database id; the client libraries use \"(default)\" unless told otherwise."
  type        = string
  default     = "(default)"
}

variable "location_id" {
  description = "Firestore location: a multi-region (nam5, eur3) or a region. Cannot change after creation."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Keep 7 days of versions so the database can be read or restored as of any minute."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days each daily backup is kept: 7 to 98 (Firestore keeps a backup at most 14 weeks)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 98 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number of days from 7 to 98."
  }
}

variable "delete_protection" {
  description = "Refuse to delete the database (through Terraform or otherwise) while set."
  type        = bool
  default     = true
}

variable "deletion_policy" {
  description = "What `terraform destroy` does: ABANDON removes it from state only, DELETE deletes the data."
  type        = string
  default     = "ABANDON"

  validation {
    condition     = contains(["ABANDON", "DELETE"], var.deletion_policy)
    error_message = "deletion_policy must be ABANDON or DELETE."
  }
}

variable "composite_indexes" {
  description = "Composite indexes by key: collection group and ordered fields, each with an order (ASCENDING/DESCENDING) or array_config (CONTAINS)."
  type = map(object({
    collection = string
    fields = list(object({
      path         = string
      order        = optional(string)
      array_config = optional(string)
    }))
  }))
  default = {}

  validation {
    condition = alltrue(flatten([for i in values(var.composite_indexes) : [
      for f in i.fields : (f.order == null) != (f.array_config == null)
    ]]))
    error_message = "Each index field needs exactly one of order or array_config."
  }

  validation {
    condition = alltrue(flatten([for i in values(var.composite_indexes) : [
      for f in i.fields : contains(["ASCENDING", "DESCENDING"], coalesce(f.order, "ASCENDING")) && contains(["CONTAINS"], coalesce(f.array_config, "CONTAINS"))
    ]]))
    error_message = "order must be ASCENDING or DESCENDING; array_config must be CONTAINS."
  }

  validation {
    condition     = alltrue([for i in values(var.composite_indexes) : length([for f in i.fields : f if f.path != "__name__"]) >= 2])
    error_message = "A composite index needs at least two fields besides __name__ (single fields are indexed automatically)."
  }
}

variable "vector_indexes" {
  description = "Vector indexes by key: the collection group, the fields of the query's equality pre-filter in order, and the vector field with the length of its vectors."
  type = map(object({
    collection = string
    prefilter  = optional(list(string), [])
    field      = string
    dimension  = number
  }))
  default = {}

  validation {
    condition     = alltrue([for i in values(var.vector_indexes) : i.dimension >= 1 && i.dimension <= 2048])
    error_message = "A vector index's dimension must be 1-2048 (Firestore's largest vector)."
  }
}

variable "ttl_fields" {
  description = "TTL policies by key: the collection group and the timestamp field after which a document is deleted."
  type = map(object({
    collection = string
    field      = string
  }))
  default = {}
}
