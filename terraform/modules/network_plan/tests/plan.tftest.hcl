variables {
  cluster_name = "gitops-delivery-cluster"
}

run "subnet_plan_matches_the_design" {
  command = plan

  assert {
    condition     = output.private_subnets == ["10.0.1.0/24", "10.0.2.0/24"]
    error_message = "private subnets must be 10.0.1.0/24 and 10.0.2.0/24"
  }

  assert {
    condition     = output.public_subnets == ["10.0.101.0/24", "10.0.102.0/24"]
    error_message = "public subnets must be 10.0.101.0/24 and 10.0.102.0/24"
  }

  assert {
    condition     = output.tags["Cluster"] == "gitops-delivery-cluster" && output.tags["ManagedBy"] == "terraform"
    error_message = "every resource is tagged with its cluster and owner"
  }

  assert {
    condition     = output.public_subnet_tags["kubernetes.io/role/elb"] == "1"
    error_message = "public subnets carry the load-balancer tag"
  }
}

run "three_zones_extend_the_same_pattern" {
  command = plan

  variables {
    az_count = 3
  }

  assert {
    condition     = output.private_subnets[2] == "10.0.3.0/24" && output.public_subnets[2] == "10.0.103.0/24"
    error_message = "a third zone continues the numbering"
  }
}
