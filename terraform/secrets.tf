# Secrets the cluster reads through external-secrets. Terraform creates them empty: values are set by operators
# (aws secretsmanager put-secret-value) and never pass through git or Terraform state.
#
# recovery_window_in_days = 0: `cluster down` deletes them at once. With the default 30-day window a deleted secret's
# name stays reserved, so `cluster up` within 30 days of `down` failed on "already scheduled for deletion" (issue #11,
# defect 14). The values are the operators' (OAuth clients, a session key) and are set again by the `up` preflight;
# a name suffix would instead leave the old, still-billed secrets behind. See docs/operations.md "Secrets".
resource "aws_secretsmanager_secret" "app" {
  # checkov:skip=CKV2_AWS_57:values are OAuth client secrets and the session key, rotated by operators with the provider
  for_each    = toset(var.environments)
  name        = "expense-tracker/${each.key}/app"
  description = "expense-tracker ${each.key}: SECRET_KEY, GOOGLE_CLIENT_ID/SECRET, OIDC_CLIENT_ID/SECRET (JSON)."
  kms_key_id  = aws_kms_key.main.arn

  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret" "grafana_admin" {
  # checkov:skip=CKV2_AWS_57:Grafana's admin password is rotated by operators; Grafana cannot take a rotated value live
  name        = "expense-tracker/grafana-admin"
  description = "Grafana admin credentials (JSON: admin-user, admin-password)."
  kms_key_id  = aws_kms_key.main.arn

  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret" "alertmanager" {
  # checkov:skip=CKV2_AWS_57:Slack webhook URLs are rotated by operators in Slack; Alertmanager reads them from files
  name        = "expense-tracker/alertmanager"
  description = "Alertmanager receivers (JSON: slack-critical-url, slack-warning-url); see docs/runbooks/alert-delivery.md."
  kms_key_id  = aws_kms_key.main.arn

  recovery_window_in_days = 0
}
