data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:only the first two zones (sorted by name) are used; a zone AWS adds later sorts after them
  state = "available"
}

module "plan" {
  source       = "./modules/network_plan"
  cluster_name = var.cluster_name
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, 2)

  # Service accounts that assume AWS roles, exactly as the generated manifests name them
  # (manifests_py/names.py and manifests_py/components/app.py; tests/terraform checks they are equal).
  service_accounts = {
    cluster_autoscaler = "kube-system:cluster-autoscaler"
    ebs_csi            = "kube-system:ebs-csi-controller-sa"
    external_secrets   = "external-secrets:external-secrets"
    cert_manager       = "cert-manager:cert-manager"
    external_dns       = "external-dns:external-dns"
  }
  # CloudNativePG runs each environment's database pods under a service account named after the cluster.
  database_service_accounts = { for env in var.environments : env => "expense-tracker-${env}:expense-tracker-db" }

  zone_id  = var.hosted_zone_id != "" ? var.hosted_zone_id : aws_route53_zone.main[0].zone_id
  zone_arn = "arn:${local.partition}:route53:::hostedzone/${local.zone_id}"
}

# The long-lived backup bucket and its key (terraform/backups, applied first by `cluster up`, never destroyed by
# `cluster down`), looked up by the names that root gives them.
data "aws_s3_bucket" "backups" {
  bucket = "${module.plan.backup_bucket_name}-${local.account_id}"
}

data "aws_kms_alias" "backups" {
  name = "alias/${var.cluster_name}-backups"
}
