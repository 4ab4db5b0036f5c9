module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.37"

  cluster_name    = var.cluster_name
  cluster_version = var.cluster_version

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.private_subnets

  # Public endpoint only for the operators' CIDRs; nodes use the private endpoint.
  cluster_endpoint_public_access       = true
  cluster_endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  cluster_endpoint_private_access      = true

  # Access entries only (no aws-auth ConfigMap), and no implicit admin for whoever ran terraform.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false
  access_entries = {
    for index, arn in var.admin_principal_arns : "admin-${index}" => {
      principal_arn = arn
      policy_associations = {
        admin = {
          policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }

  cluster_enabled_log_types              = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn

  create_kms_key            = false
  cluster_encryption_config = { provider_key_arn = aws_kms_key.main.arn, resources = ["secrets"] }

  # Exact versions, not `most_recent`: an unrelated `apply` must not upgrade the CNI or DNS of a running cluster.
  # Refresh them together with cluster_version from
  #   aws eks describe-addon-versions --kubernetes-version <version> --addon-name <name> \
  #     --query 'addons[0].addonVersions[?compatibilities[0].defaultVersion].addonVersion'
  # (kube-proxy is built per Kubernetes minor and must carry the control plane's). No eks-pod-identity-agent: every
  # controller here gets AWS credentials through IRSA (irsa.tf), so the agent DaemonSet would only cost a pod slot per
  # node. See docs/operations.md "EKS add-ons".
  cluster_addons = {
    vpc-cni = {
      addon_version  = "v1.20.4-eksbuild.1"
      before_compute = true
      # Without this the CNI's network-policy agent is off and every NetworkPolicy is accepted but not enforced.
      # EKS validates the JSON against the add-on's schema, which takes the string "true".
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
    coredns    = { addon_version = "v1.12.4-eksbuild.1" }
    kube-proxy = { addon_version = "v1.35.0-eksbuild.2" }
    aws-ebs-csi-driver = {
      addon_version            = "v1.48.0-eksbuild.1"
      service_account_role_arn = module.irsa["ebs_csi"].iam_role_arn
    }
  }

  eks_managed_node_group_defaults = {
    ami_type      = "AL2023_x86_64_STANDARD"
    capacity_type = "SPOT"
    # IMDSv2 only, one hop: pods cannot borrow the node's role.
    metadata_options = { http_endpoint = "enabled", http_tokens = "required", http_put_response_hop_limit = 1 }
  }

  # One group per zone per size, laid out by the plan module (modules/network_plan, where it is unit-tested); each
  # group sits in its zone's private subnet only. Managed node groups carry the autoscaler's auto-discovery tags, and
  # the autoscaler reads a group's labels from EKS (eks:DescribeNodegroup) to scale a size up from zero.
  eks_managed_node_groups = {
    for name, group in module.plan.node_groups : name => {
      instance_types = group.instance_types
      capacity_type  = group.capacity_type
      min_size       = group.min_size
      max_size       = group.max_size
      desired_size   = group.desired_size
      labels         = group.labels
      subnet_ids     = [module.vpc.private_subnets[group.zone_index]]
    }
  }
}
