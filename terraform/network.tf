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

  # The module creates both the log group and the role that writes to it: in vpc v5.21 (`vpc-flow-logs.tf`) the
  # role's policy names only the group the module itself creates, so a group of our own left that policy with an
  # empty resource list and `apply` failed with MalformedPolicyDocument (issue #11, defect 1).
  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_destination_type                       = "cloud-watch-logs"
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_name_prefix       = "/aws/vpc/${var.cluster_name}/"
  flow_log_cloudwatch_log_group_name_suffix       = "flow-logs"
  flow_log_cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days
}
