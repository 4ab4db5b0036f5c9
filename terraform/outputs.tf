# Names match manifests_py.environments.Infrastructure: `nox -s infra_sync` copies them into
# manifests_py/environments/infrastructure.json.

output "aws_region" {
  value = var.region
}

output "cluster_name" {
  value = module.eks.cluster_name
}

output "cluster_endpoint" {
  value = module.eks.cluster_endpoint
}

output "hosted_zone_id" {
  value = local.zone_id
}

output "domain_zone" {
  value = var.domain_name
}

output "name_servers" {
  description = "Delegate the domain to these when Terraform created the zone."
  value       = var.hosted_zone_id == "" ? aws_route53_zone.main[0].name_servers : []
}

output "backup_bucket" {
  value = data.aws_s3_bucket.backups.bucket
}

output "cluster_autoscaler_role_arn" {
  value = module.irsa["cluster_autoscaler"].iam_role_arn
}

output "external_secrets_role_arn" {
  value = module.irsa["external_secrets"].iam_role_arn
}

output "cert_manager_role_arn" {
  value = module.irsa["cert_manager"].iam_role_arn
}

output "external_dns_role_arn" {
  value = module.irsa["external_dns"].iam_role_arn
}

output "database_backup_role_arns" {
  value = { for env, role in module.database_backup_irsa : env => role.iam_role_arn }
}

output "github_actions_role_arn" {
  value = aws_iam_role.github_actions.arn
}
