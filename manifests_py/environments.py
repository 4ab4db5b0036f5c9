"""Environments are data: the same components are applied to each.

Per environment, ``environments/<name>/`` holds ``settings.toml`` (edited by people), ``image.txt`` (the image by
digest, edited by CI's release and promote steps) and, shared by all, ``environments/infrastructure.json`` (the
Terraform outputs the manifests need). Loading validates everything so a typo fails the render, not the cluster.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENTS_DIR = Path(__file__).parent / "environments"
ENVIRONMENT_NAMES = ("staging", "production")
IMAGE_FILE = "image.txt"
SETTINGS_FILE = "settings.toml"
INFRASTRUCTURE_FILE = "infrastructure.json"
OPS_FILE = "ops.toml"

_IMAGE_BY_DIGEST = re.compile(r"^[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$")
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:m|Mi|Gi|Ti)?$")
_ARN = re.compile(r"^arn:aws:iam::[0-9]{12}:role/[\w+=,.@/-]+$")


class InvalidEnvironmentError(ValueError):
    """An environment file is missing a value or holds one the cluster would refuse."""


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    cpu_utilization: int


@dataclass(frozen=True)
class Database:
    instances: int
    storage: str
    wal_storage: str
    backup_schedule: str
    """Six-field cron (seconds first), as CloudNativePG's ScheduledBackup expects."""
    retention: str
    resources: Resources


@dataclass(frozen=True)
class OIDCProvider:
    discovery_url: str
    name: str


@dataclass(frozen=True)
class SignIn:
    google: bool
    oidc: OIDCProvider | None


@dataclass(frozen=True)
class Infrastructure:
    """What Terraform outputs and the manifests need (``terraform output -json``, flattened)."""

    aws_region: str
    cluster_name: str
    hosted_zone_id: str
    domain_zone: str
    backup_bucket: str
    cluster_autoscaler_role_arn: str
    external_secrets_role_arn: str
    cert_manager_role_arn: str
    external_dns_role_arn: str
    database_backup_role_arns: dict[str, str]


@dataclass(frozen=True)
class Ops:
    """Settings of the operators' host (Argo CD and Grafana), edited by people in ``environments/ops.toml``."""

    allowed_source_ranges: tuple[str, ...]


@dataclass(frozen=True)
class Environment:
    name: str
    host: str
    tls_issuer: str
    image: str
    web_concurrency: int
    log_level: str
    autoscaling: Autoscaling
    resources: Resources
    database: Database
    sign_in: SignIn
    infrastructure: Infrastructure

    @property
    def public_url(self) -> str:
        return f"https://{self.host}"

    @property
    def database_backup_role_arn(self) -> str:
        return self.infrastructure.database_backup_role_arns[self.name]


def _require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise InvalidEnvironmentError(f"{where}: {key} is missing")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidEnvironmentError(f"{where}: {key} must be {kind.__name__}, got {value!r}")
    return value


def _resources(table: dict[str, Any], where: str) -> Resources:
    values = {
        key: _require(table, key, str, where) for key in ("cpu_request", "memory_request", "cpu_limit", "memory_limit")
    }
    for key, value in values.items():
        if not _QUANTITY.match(value):
            raise InvalidEnvironmentError(f"{where}: {key} {value!r} is not a Kubernetes quantity")
    return Resources(**values)


def read_image(name: str, directory: Path = ENVIRONMENTS_DIR) -> str:
    image = (directory / name / IMAGE_FILE).read_text().strip()
    if not _IMAGE_BY_DIGEST.match(image):
        raise InvalidEnvironmentError(f"{name}/{IMAGE_FILE}: {image!r} is not an image reference by sha256 digest")
    return image


def validate_image(image: str) -> str:
    if not _IMAGE_BY_DIGEST.match(image):
        raise InvalidEnvironmentError(f"{image!r} is not an image reference by sha256 digest (…@sha256:<64 hex>)")
    return image


def write_image(name: str, image: str, directory: Path = ENVIRONMENTS_DIR) -> None:
    """Set an environment's image (CI's release step and promotion call this)."""
    (directory / name / IMAGE_FILE).write_text(validate_image(image) + "\n")


def load_infrastructure(directory: Path = ENVIRONMENTS_DIR) -> Infrastructure:
    where = INFRASTRUCTURE_FILE
    data = json.loads((directory / INFRASTRUCTURE_FILE).read_text())
    arns = _require(data, "database_backup_role_arns", dict, where)
    infrastructure = Infrastructure(
        **{
            key: _require(data, key, str, where)
            for key in Infrastructure.__dataclass_fields__
            if key != "database_backup_role_arns"
        },
        database_backup_role_arns=dict(sorted(arns.items())),
    )
    roles = [value for key, value in vars(infrastructure).items() if key.endswith("_role_arn")] + list(arns.values())
    for arn in roles:
        if not _ARN.match(arn):
            raise InvalidEnvironmentError(f"{where}: {arn!r} is not an IAM role ARN")
    return infrastructure


def load_ops(directory: Path = ENVIRONMENTS_DIR) -> Ops:
    where = OPS_FILE
    data = tomllib.loads((directory / OPS_FILE).read_text())
    ranges = _require(data, "allowed_source_ranges", list, where)
    if not ranges:
        raise InvalidEnvironmentError(f"{where}: allowed_source_ranges needs at least one network")
    for cidr in ranges:
        try:
            network = ipaddress.ip_network(cidr)  # strict: host bits set is a typo, refused
        except (TypeError, ValueError) as error:
            raise InvalidEnvironmentError(f"{where}: {cidr!r} is not a network in CIDR form ({error})") from None
        if network.prefixlen == 0:
            raise InvalidEnvironmentError(f"{where}: {cidr!r} lets everyone in; list the operators' networks")
    return Ops(allowed_source_ranges=tuple(ranges))


def load_environment(name: str, directory: Path = ENVIRONMENTS_DIR) -> Environment:
    where = f"{name}/{SETTINGS_FILE}"
    data = tomllib.loads((directory / name / SETTINGS_FILE).read_text())
    scaling = _require(data, "autoscaling", dict, where)
    database = _require(data, "database", dict, where)
    sign_in = _require(data, "sign_in", dict, where)
    oidc = sign_in.get("oidc")
    autoscaling = Autoscaling(
        **{key: _require(scaling, key, int, f"{where} [autoscaling]") for key in Autoscaling.__dataclass_fields__}
    )
    if not 1 <= autoscaling.min_replicas <= autoscaling.max_replicas:
        raise InvalidEnvironmentError(f"{where}: autoscaling needs 1 <= min_replicas <= max_replicas")
    infrastructure = load_infrastructure(directory)
    if name not in infrastructure.database_backup_role_arns:
        raise InvalidEnvironmentError(f"{INFRASTRUCTURE_FILE}: no database backup role for {name}")
    return Environment(
        name=name,
        host=_require(data, "host", str, where),
        tls_issuer=_require(data, "tls_issuer", str, where),
        image=read_image(name, directory),
        web_concurrency=_require(data, "web_concurrency", int, where),
        log_level=_require(data, "log_level", str, where),
        autoscaling=autoscaling,
        resources=_resources(_require(data, "resources", dict, where), f"{where} [resources]"),
        database=Database(
            instances=_require(database, "instances", int, f"{where} [database]"),
            storage=_require(database, "storage", str, f"{where} [database]"),
            wal_storage=_require(database, "wal_storage", str, f"{where} [database]"),
            backup_schedule=_require(database, "backup_schedule", str, f"{where} [database]"),
            retention=_require(database, "retention", str, f"{where} [database]"),
            resources=_resources(
                _require(database, "resources", dict, f"{where} [database]"), f"{where} [database.resources]"
            ),
        ),
        sign_in=SignIn(
            google=_require(sign_in, "google", bool, f"{where} [sign_in]"),
            oidc=OIDCProvider(
                discovery_url=_require(oidc, "discovery_url", str, f"{where} [sign_in.oidc]"),
                name=_require(oidc, "name", str, f"{where} [sign_in.oidc]"),
            )
            if oidc
            else None,
        ),
        infrastructure=infrastructure,
    )


def load_all(directory: Path = ENVIRONMENTS_DIR) -> tuple[Environment, ...]:
    return tuple(load_environment(name, directory) for name in ENVIRONMENT_NAMES)
