"""Environment files are parsed strictly: a typo or a value the cluster would refuse fails with the file, the key and
the reason, through the same message `python -m manifests_py check` (and render) prints instead of a traceback."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from manifests_py import __main__ as cli
from manifests_py.environments import ENVIRONMENTS_DIR, InvalidEnvironmentError, load_all
from manifests_py.render import render

SETTINGS_KEYS = "host, tls_issuer, web_concurrency, log_level, autoscaling, resources, database, sign_in"
INFRASTRUCTURE_KEYS = (
    "aws_region, cluster_name, hosted_zone_id, domain_zone, backup_bucket, cluster_autoscaler_role_arn, "
    "external_secrets_role_arn, cert_manager_role_arn, external_dns_role_arn, database_backup_role_arns"
)
ARN_REASON = "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
QUANTITY_REASON = "is not a Kubernetes quantity (such as 250m, 1 or 512Mi)"
EXTERNAL_DNS_ARN = "arn:aws:iam::111122223333:role/gitops-delivery-cluster-external-dns"
STAGING_BACKUP_ARN = "arn:aws:iam::111122223333:role/gitops-delivery-cluster-db-backup-staging"
SIGN_IN = "[sign_in]\ngoogle = true\n"

# (file, text in it, replaced by, the whole error message)
CASES = [
    # The example: OIDC silently off because its table is misspelled.
    (
        "staging/settings.toml",
        SIGN_IN,
        SIGN_IN + '[sign_in.odic]\ndiscovery_url = "https://idp.example.org/.well-known/openid-configuration"\n',
        "staging/settings.toml: sign_in.odic: unknown key; expected one of google, oidc",
    ),
    (
        "production/settings.toml",
        "web_concurrency = 2",
        "web_concurency = 2",
        f"production/settings.toml: web_concurency: unknown key; expected one of {SETTINGS_KEYS}",
    ),
    (
        "staging/settings.toml",
        "[database.resources]",
        "[database.resource]",
        "staging/settings.toml: database.resource: unknown key; expected one of "
        "instances, storage, wal_storage, backup_schedule, retention, resources",
    ),
    (
        "staging/settings.toml",
        SIGN_IN,
        SIGN_IN + '[sign_in.oidc]\nname = "SSO"\n',
        "staging/settings.toml: sign_in.oidc.discovery_url: missing",
    ),
    (
        "staging/settings.toml",
        SIGN_IN,
        SIGN_IN + '[sign_in.oidc]\nname = "SSO"\ndiscovery_url = "http://idp.example.org/"\n',
        "staging/settings.toml: sign_in.oidc.discovery_url: 'http://idp.example.org/' is not an https:// URL",
    ),
    (
        "staging/settings.toml",
        'cpu_limit = "1"',
        'cpu_limit = "one"',
        f"staging/settings.toml: resources.cpu_limit: 'one' {QUANTITY_REASON}",
    ),
    (
        "staging/settings.toml",
        'storage = "5Gi"',
        'storage = "5GB"',
        f"staging/settings.toml: database.storage: '5GB' {QUANTITY_REASON}",
    ),
    (
        "staging/settings.toml",
        "instances = 1",
        'instances = "1"',
        "staging/settings.toml: database.instances: expected int, got '1'",
    ),
    (
        "staging/settings.toml",
        "instances = 1",
        "instances = 0",
        "staging/settings.toml: database.instances: expected int >= 1, got 0",
    ),
    (
        "staging/settings.toml",
        "google = true",
        'google = "yes"',
        "staging/settings.toml: sign_in.google: expected bool, got 'yes'",
    ),
    (
        "staging/settings.toml",
        "[autoscaling]\n",
        "autoscaling = 3\n[autoscaling_]\n",
        "staging/settings.toml: autoscaling: expected a table, got 3",
    ),
    (
        "staging/settings.toml",
        'host = "staging.expenses.example.org"',
        'host = "https://staging.expenses.example.org"',
        "staging/settings.toml: host: 'https://staging.expenses.example.org' is not a lower-case DNS name "
        "(such as expenses.example.org)",
    ),
    (
        "staging/settings.toml",
        'log_level = "INFO"',
        'log_level = "info"',
        "staging/settings.toml: log_level: 'info' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    (
        "staging/settings.toml",
        'tls_issuer = "letsencrypt-production"',
        'tls_issuer = "letsencrypt"',
        "staging/settings.toml: tls_issuer: 'letsencrypt' is not one of letsencrypt-staging, letsencrypt-production",
    ),
    (
        "staging/settings.toml",
        'retention = "7d"',
        'retention = "7 days"',
        "staging/settings.toml: database.retention: '7 days' is not a retention such as 30d, 4w or 6m",
    ),
    (
        "staging/settings.toml",
        'backup_schedule = "0 0 3 * * *"',
        'backup_schedule = "0 3 * * *"',
        "staging/settings.toml: database.backup_schedule: '0 3 * * *' is not a six-field cron schedule, seconds "
        "first (such as 0 0 2 * * *)",
    ),
    (
        "staging/settings.toml",
        "min_replicas = 1",
        "min_replicas = 9",
        "staging/settings.toml: autoscaling: needs min_replicas <= max_replicas",
    ),
    (
        "staging/settings.toml",
        'host = "staging.expenses.example.org"\n',
        "",
        "staging/settings.toml: host: missing",
    ),
    (
        "staging/settings.toml",
        "web_concurrency = 2",
        "web_concurrency = = 2",
        "staging/settings.toml: not valid TOML (Invalid value (at line 4, column 19))",
    ),
    (
        "infrastructure.json",
        '"aws_region"',
        '"aws_regoin"',
        f"infrastructure.json: aws_regoin: unknown key; expected one of {INFRASTRUCTURE_KEYS}",
    ),
    (
        "infrastructure.json",
        EXTERNAL_DNS_ARN,
        "admin",
        f"infrastructure.json: external_dns_role_arn: 'admin' {ARN_REASON}",
    ),
    (
        "infrastructure.json",
        STAGING_BACKUP_ARN,
        "arn:aws:iam::1111:role/db-backup",
        f"infrastructure.json: database_backup_role_arns.staging: 'arn:aws:iam::1111:role/db-backup' {ARN_REASON}",
    ),
    (
        "infrastructure.json",
        '"staging": "arn',
        '"qa": "arn',
        "infrastructure.json: database_backup_role_arns.staging: missing",
    ),
    (
        "infrastructure.json",
        '"Z0000000000000000000"',
        '"/hostedzone/Z0000000000000000000"',
        "infrastructure.json: hosted_zone_id: '/hostedzone/Z0000000000000000000' is not a Route 53 hosted zone id (Z…)",
    ),
    (
        "ops.toml",
        "allowed_source_ranges = ",
        "allowed_source_range = ",
        "ops.toml: allowed_source_range: unknown key; expected one of allowed_source_ranges",
    ),
    (
        "ops.toml",
        '["203.0.113.0/24"]',
        '["203.0.113.0/24", "office"]',
        "ops.toml: allowed_source_ranges[1]: 'office' is not a network in CIDR form (such as 203.0.113.0/24)",
    ),
    (
        "ops.toml",
        '["203.0.113.0/24"]',
        '["203.0.113.1/24"]',
        "ops.toml: allowed_source_ranges[0]: '203.0.113.1/24' is not a network in CIDR form "
        "(203.0.113.1/24 has host bits set)",
    ),
]


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    copy = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, copy)
    return copy


def _edit(directory: Path, file: str, old: str, new: str) -> None:
    path = directory / file
    text = path.read_text()
    assert old in text, f"{file} no longer holds {old!r}: update this table"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("file", "old", "new", "message"), CASES, ids=[case[3][:60] for case in CASES])
def test_a_bad_environment_file_names_the_file_the_key_and_the_reason(
    environments: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(environments, file, old, new)
    with pytest.raises(InvalidEnvironmentError) as refused:
        render(environments)
    assert str(refused.value) == message


def test_the_committed_environments_load(environments: Path) -> None:
    assert [environment.name for environment in load_all(environments)] == ["staging", "production"]


def test_an_optional_table_spelled_right_is_read(environments: Path) -> None:
    url = "https://idp.example.org/.well-known/openid-configuration"
    _edit(
        environments,
        "staging/settings.toml",
        SIGN_IN,
        f'{SIGN_IN}[sign_in.oidc]\ndiscovery_url = "{url}"\nname = "SSO"\n',
    )
    staging = load_all(environments)[0]
    assert staging.sign_in.oidc is not None
    assert (staging.sign_in.oidc.discovery_url, staging.sign_in.oidc.name) == (url, "SSO")


@pytest.mark.parametrize("command", ["check", "render"])
def test_check_and_render_print_the_reason_not_a_traceback(
    environments: Path,
    tmp_path: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _edit(environments, "staging/settings.toml", SIGN_IN, SIGN_IN + '[sign_in.odic]\nname = "SSO"\n')
    monkeypatch.setattr(cli, "render", functools.partial(render, environments))
    assert cli.main([command, "--out", str(tmp_path / "manifests")]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: staging/settings.toml: sign_in.odic: unknown key; expected one of google, oidc\n"
    assert captured.out == ""
    assert not (tmp_path / "manifests").exists()
