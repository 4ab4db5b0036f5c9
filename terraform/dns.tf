# The zone external-dns writes the app's records into (no DNS script) and cert-manager solves DNS-01 challenges in.
resource "aws_route53_zone" "main" {
  # checkov:skip=CKV2_AWS_38:DNSSEC needs the registrar's DS record; enable it together with the domain's owner
  # checkov:skip=CKV2_AWS_39:query logging is optional; external-dns and cert-manager changes are in CloudTrail
  count = var.hosted_zone_id == "" ? 1 : 0
  name  = var.domain_name
}
