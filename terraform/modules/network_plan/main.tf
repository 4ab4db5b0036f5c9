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

  # Node sizes; each becomes one managed node group per zone (below). cluster-autoscaler needs every group's instance
  # types to share vCPU and memory. `system` is on demand: one node per zone that Spot cannot reclaim, for the
  # database instances and the controllers (for the manifests to select by `node-size: system`). The Spot sizes
  # scale from zero for the apps' peaks.
  node_sizes = {
    system = { instance_types = ["t3.medium"], capacity_type = "ON_DEMAND", min_size = 1, max_size = 1, desired_size = 1 }          # 2 vCPU, 4 GiB
    medium = { instance_types = ["t3a.medium", "t3.medium"], capacity_type = "SPOT", min_size = 0, max_size = 1, desired_size = 0 } # 2 vCPU, 4 GiB
    small  = { instance_types = ["t3a.small", "t3.small"], capacity_type = "SPOT", min_size = 0, max_size = 1, desired_size = 0 }   # 2 vCPU, 2 GiB
  }

  # One group per zone per size (issue #11, defect 8). A group spanning zones lets the autoscaler add a node in a zone
  # where a pending pod cannot run (its EBS volume lives in another zone, or zone anti-affinity forbids it) and then
  # remove it as unneeded, forever. With one group per zone the autoscaler simulates the right zone, and
  # `--balance-similar-node-groups` (set in the manifests) keeps the zones of one size even: groups that differ only
  # by zone count as similar, so everything but `zone_index` must be identical.
  node_groups = merge([
    for size, group in local.node_sizes : {
      for zone in range(var.az_count) : "${size}-az${zone + 1}" => merge(group, {
        zone_index = zone
        labels     = { "node-size" = size }
      })
    }
  ]...)
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

# Managed node groups by name; zone_index picks the group's one private subnet.
output "node_groups" {
  value = local.node_groups
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
