module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.21"

  name = var.cluster_name
  cidr = module.plan.vpc_cidr
  azs  = local.azs

  private_subnets = module.plan.private_subnets
  public_subnets  = module.plan.public_subnets

  enable_nat_gateway   = true
  single_nat_gateway   = true # one NAT gateway keeps a small cluster affordable; a zone outage stops egress only
  enable_dns_hostnames = true

  public_subnet_tags  = module.plan.public_subnet_tags
  private_subnet_tags = module.plan.private_subnet_tags

  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = false
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_destination_type                       = "cloud-watch-logs"
  flow_log_destination_arn                        = aws_cloudwatch_log_group.flow_logs.arn
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${var.cluster_name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}
