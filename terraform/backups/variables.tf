variable "region" {
  description = "AWS region of the backup bucket (the cluster's region)."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "EKS cluster name; the bucket and key are named after it (the main root looks them up by these names)."
  type        = string
  default     = "gitops-delivery-cluster"
}

variable "backup_retention_days" {
  description = "Days after which non-current backup objects expire (base backups are pruned by CloudNativePG)."
  type        = number
  default     = 35
}
