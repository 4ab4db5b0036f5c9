terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.95"
    }
  }

  # Partial configuration like the main root, with its own state key (`<cluster>/backups.tfstate`): `cluster down`
  # destroys only the main root's state, so nothing here is ever part of a destroy plan.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = module.plan.tags
  }
}
