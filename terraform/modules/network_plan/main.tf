# Provider-free: names, tags and the subnet plan, so they can be unit-tested with `terraform test` offline.

variable "cluster_name" {
  type = string
}

variable "vpc_cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "az_count" {
  type    = number
  default = 2
}

locals {
  # /16 split into /24s: private 10.0.1.0/24, 10.0.2.0/24; public 10.0.101.0/24, 10.0.102.0/24.
  private_subnets = [for index in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, index + 1)]
  public_subnets  = [for index in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, index + 101)]
}

output "vpc_cidr" {
  value = var.vpc_cidr
}

output "private_subnets" {
  value = local.private_subnets
}

output "public_subnets" {
  value = local.public_subnets
}

output "tags" {
  value = {
    Project   = "expense-tracker"
    Cluster   = var.cluster_name
    ManagedBy = "terraform"
  }
}

# Subnet tags the AWS load balancer integrations use to place internet-facing and internal load balancers.
output "public_subnet_tags" {
  value = { "kubernetes.io/role/elb" = "1" }
}

output "private_subnet_tags" {
  value = { "kubernetes.io/role/internal-elb" = "1" }
}

output "backup_bucket_name" {
  value = "${var.cluster_name}-db-backups"
}
