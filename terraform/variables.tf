variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "EKS cluster name (also the prefix of every named resource)."
  type        = string
  default     = "gitops-delivery-cluster"
}

variable "cluster_version" {
  # 1.29 (the previous design's version) left EKS extended support in March 2026; 1.35 is in standard support until
  # early 2027. Keep this equal to manifests_py.names.EKS_VERSION, which the manifests are validated against.
  description = "Kubernetes version of the EKS control plane and nodes."
  type        = string
  default     = "1.35"
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (operators' egress addresses). No default: the world is never the default."
  type        = list(string)

  validation {
    condition     = length(var.endpoint_public_access_cidrs) > 0 && !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "List the operators' CIDRs; 0.0.0.0/0 is not allowed."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles/users granted cluster-admin through EKS access entries (never the account root)."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.admin_principal_arns : !can(regex(":root$", arn))])
    error_message = "The account root is not a cluster admin; name roles."
  }
}

variable "domain_name" {
  description = "DNS zone the app and the operators' hosts live in (manifests_py infrastructure.json domain_zone)."
  type        = string
  default     = "expenses.example.org"
}

variable "hosted_zone_id" {
  description = "Existing Route 53 zone id for domain_name; empty creates the zone."
  type        = string
  default     = ""
}

variable "environments" {
  description = "App environments (namespaces expense-tracker-<env>), as in manifests_py/environments."
  type        = list(string)
  default     = ["staging", "production"]
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose Actions may assume the CI role."
  type        = string
  default     = "expense-tracker/expense-tracker"
}

variable "log_retention_days" {
  description = "Retention of the control-plane and VPC flow log groups."
  type        = number
  default     = 365
}

variable "state_bucket" {
  # The only place the bucket's name reaches Terraform: `cluster up|down` pass their --state-bucket here
  # (manifests_py/cluster.py) and CI its TF_STATE_BUCKET repository variable, never a literal.
  description = "S3 bucket holding this root's state (the backend's bucket); the CI plan role may read its state object."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "An S3 bucket name."
  }
}
