"""Environments are data: the same components are applied to each.

Per environment, ``environments/<name>/`` holds ``settings.toml`` (edited by people), ``image.txt`` (the image by
digest, edited by CI's release and promote steps) and, shared by all, ``environments/infrastructure.json`` (the
Terraform outputs the manifests need) and ``environments/ops.toml`` (the operators' host).

Each file is decoded strictly into the msgspec Structs below: every key is required unless it has a default, an
unknown key (a typo such as ``[sign_in.odic]``) is refused, and strings the cluster would refuse are refused here by
pattern. Every refusal is an :class:`InvalidEnvironmentError` naming the file, the key and the reason, e.g.
``staging/settings.toml: sign_in.odic: unknown key; expected one of google, oidc``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar

import msgspec

from manifests_py import names

ENVIRONMENTS_DIR = Path(__file__).parent / "environments"
ENVIRONMENT_NAMES = ("staging", "production")
IMAGE_FILE = "image.txt"
SETTINGS_FILE = "settings.toml"
INFRASTRUCTURE_FILE = "infrastructure.json"
OPS_FILE = "ops.toml"

T = TypeVar("T")


class InvalidEnvironmentError(ValueError):
    """An environment file is missing a value or holds one the cluster would refuse."""


def _text(pattern: str, description: str) -> msgspec.Meta:
    """A string constraint; ``description`` completes "<value> is not …" in errors."""
    return msgspec.Meta(pattern=pattern, description=description)


# Kubernetes' quantity grammar as its OpenAPI schemas state it (here copied from the pinned CloudNativePG Cluster CRD,
# tests/data/crd-schemas/postgresql.cnpg.io/cluster_v1.json, resources.*), without the sign: requests, limits and
# volume sizes are never negative.
Quantity = Annotated[
    str,
    _text(
        r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
        "a Kubernetes quantity (such as 250m, 1 or 512Mi)",
    ),
]
# Ingress hosts are DNS-1123 subdomains (k8s.io/apimachinery pkg/util/validation: dns1123SubdomainFmt), lower case.
Hostname = Annotated[
    str,
    _text(
        r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "a lower-case DNS name (such as expenses.example.org)",
    ),
]
RoleArn = Annotated[
    str, _text(r"^arn:aws:iam::[0-9]{12}:role/[\w+=,.@/-]+$", "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
]
IMAGE_BY_DIGEST: Final = r"^[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$"
# CloudNativePG's ScheduledBackup takes six cron fields, seconds first; its retention pattern is the Cluster CRD's
# spec.backup.retentionPolicy pattern (same CRD file as above).
BackupSchedule = Annotated[
    str, _text(r"^\S+( \S+){5}$", "a six-field cron schedule, seconds first (such as 0 0 2 * * *)")
]
Retention = Annotated[str, _text(r"^[1-9][0-9]*[dwm]$", "a retention such as 30d, 4w or 6m")]
HttpsUrl = Annotated[str, _text(r"^https://\S+$", "an https:// URL")]
Cidr = Annotated[str, _text(r"^[0-9A-Fa-f.:]+/[0-9]{1,3}$", "a network in CIDR form (such as 203.0.113.0/24)")]
AwsRegion = Annotated[str, _text(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$", "an AWS region (such as eu-west-1)")]
HostedZoneId = Annotated[str, _text(r"^Z[0-9A-Z]{1,31}$", "a Route 53 hosted zone id (Z…)")]
# S3 bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), lower case.
BucketName = Annotated[str, _text(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name")]
# EKS CreateCluster's name pattern (docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html).
ClusterName = Annotated[str, _text(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$", "an EKS cluster name")]
Positive = Annotated[int, msgspec.Meta(ge=1)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
TLS_ISSUERS: Final = (names.LETSENCRYPT_STAGING, names.LETSENCRYPT_PRODUCTION)


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every key of the file is a field: an unknown one is an error, not silently ignored."""


class Resources(_Strict, frozen=True):
    cpu_request: Quantity
    memory_request: Quantity
    cpu_limit: Quantity
    memory_limit: Quantity


class Autoscaling(_Strict, frozen=True):
    min_replicas: Positive
    max_replicas: Positive
    cpu_utilization: Positive


class Database(_Strict, frozen=True):
    instances: Positive
    storage: Quantity
    wal_storage: Quantity
    backup_schedule: BackupSchedule
    """Six-field cron (seconds first), as CloudNativePG's ScheduledBackup expects."""
    retention: Retention
    resources: Resources


class OIDCProvider(_Strict, frozen=True):
    discovery_url: HttpsUrl
    name: str


class SignIn(_Strict, frozen=True):
    google: bool
    oidc: OIDCProvider | None = None


class Infrastructure(_Strict, frozen=True):
    """What Terraform outputs and the manifests need (``terraform output -json``, flattened)."""

    aws_region: AwsRegion
    cluster_name: ClusterName
    hosted_zone_id: HostedZoneId
    domain_zone: Hostname
    backup_bucket: BucketName
    cluster_autoscaler_role_arn: RoleArn
    external_secrets_role_arn: RoleArn
    cert_manager_role_arn: RoleArn
    external_dns_role_arn: RoleArn
    database_backup_role_arns: dict[str, RoleArn]


class Ops(_Strict, frozen=True):
    """Settings of the operators' host (Argo CD and Grafana), edited by people in ``environments/ops.toml``."""

    allowed_source_ranges: tuple[Cidr, ...]


class EnvironmentSettings(_Strict, frozen=True):
    """One environment's ``settings.toml``."""

    host: Hostname
    tls_issuer: str
    web_concurrency: Positive
    log_level: LogLevel
    autoscaling: Autoscaling
    resources: Resources
    database: Database
    sign_in: SignIn


class Environment(EnvironmentSettings, frozen=True):
    """An environment's settings with its name, image and the infrastructure it runs on."""

    name: str
    image: str
    infrastructure: Infrastructure

    @property
    def public_url(self) -> str:
        return f"https://{self.host}"

    @property
    def database_backup_role_arn(self) -> str:
        return self.infrastructure.database_backup_role_arns[self.name]


# msgspec reports "<problem> - at `$.a.b[0]`"; the parts below turn that into "<file>: a.b[0]: <reason>".
_ERROR = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_SEGMENT = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>[0-9]+|\.\.\.)\]")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>.*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>.*)`$")
_NO_VALUE = object()


def _unwrap(kind: Any) -> Any:
    """The type to walk into: without ``Annotated`` metadata and without ``| None``."""
    if typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    arguments = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) in {typing.Union, types.UnionType} and len(arguments) == 1:
        return _unwrap(arguments[0])
    return kind


def _meta(kind: Any) -> msgspec.Meta | None:
    if typing.get_origin(kind) is Annotated:
        return next((m for m in typing.get_args(kind)[1:] if isinstance(m, msgspec.Meta)), None)
    return None


def _child_type(kind: Any, key: str | None) -> Any:
    bare = _unwrap(kind)
    if isinstance(bare, type) and issubclass(bare, msgspec.Struct) and key is not None:
        return typing.get_type_hints(bare, include_extras=True).get(key, Any)
    arguments = typing.get_args(bare)
    if typing.get_origin(bare) is dict:
        return arguments[1]
    if typing.get_origin(bare) in {list, tuple}:
        return arguments[0]
    return Any


def _fails(value: object, kind: Any) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return True
    return False


def _explain(message: str, data: object, root: Any) -> tuple[str, str]:
    """(key path, reason) for msgspec's ``message`` about decoding ``data`` into ``root``."""
    match = _ERROR.match(message)
    assert match is not None  # the pattern matches any text
    problem, path = match["problem"], match["path"] or ""
    node: object = data
    kind: Any = root
    keys: list[str] = []
    for segment in _SEGMENT.finditer(path):
        if segment["key"] is not None:
            keys.append(("." if keys else "") + segment["key"])
            kind = _child_type(kind, segment["key"])
            node = node.get(segment["key"], _NO_VALUE) if isinstance(node, Mapping) else _NO_VALUE
        elif segment["index"] == "...":  # a mapping's value: msgspec does not say which, so find the one refused
            kind = _child_type(kind, None)
            items = node.items() if isinstance(node, Mapping) else []
            key, node = next(((k, v) for k, v in items if _fails(v, kind)), ("…", _NO_VALUE))
            keys.append(("." if keys else "") + str(key))
        else:
            keys.append(f"[{segment['index']}]")
            kind = _child_type(kind, None)
            node = node[int(segment["index"])] if isinstance(node, list) else _NO_VALUE
    where = "".join(keys)
    if unknown := _UNKNOWN.match(problem):
        bare = _unwrap(kind)
        known = ", ".join(bare.__struct_fields__) if isinstance(bare, type) and issubclass(bare, msgspec.Struct) else ""
        key = f"{where}.{unknown['key']}" if where else unknown["key"]
        return key, f"unknown key; expected one of {known}"
    if missing := _MISSING.match(problem):
        return (f"{where}.{missing['key']}" if where else missing["key"]), "missing"
    meta = _meta(kind)
    if meta is not None and meta.description and problem.startswith("Expected `str` matching regex"):
        return where, f"{node!r} is not {meta.description}"
    if problem.startswith("Invalid enum value"):
        return where, f"{node!r} is not one of {', '.join(map(str, typing.get_args(_unwrap(kind))))}"
    expected = re.sub(r", got `[^`]*`$", "", problem).replace("`", "")
    expected = expected[0].lower() + expected[1:]
    return where, expected if node is _NO_VALUE else f"{expected}, got {node!r}"


def _decode(data: object, kind: type[T], place: str) -> T:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as error:
        key, reason = _explain(str(error), data, kind)
        if place.endswith(".toml"):  # TOML calls its objects tables
            reason = reason.replace("expected object", "expected a table")
        raise InvalidEnvironmentError(f"{place}: {key}: {reason}" if key else f"{place}: {reason}") from None


def _read(path: Path, place: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(path.read_text())
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InvalidEnvironmentError(f"{place}: not valid {path.suffix.lstrip('.').upper()} ({error})") from None


def read_image(name: str, directory: Path = ENVIRONMENTS_DIR) -> str:
    image = (directory / name / IMAGE_FILE).read_text().strip()
    if not re.match(IMAGE_BY_DIGEST, image):
        raise InvalidEnvironmentError(f"{name}/{IMAGE_FILE}: {image!r} is not an image reference by sha256 digest")
    return image


def validate_image(image: str) -> str:
    if not re.match(IMAGE_BY_DIGEST, image):
        raise InvalidEnvironmentError(f"{image!r} is not an image reference by sha256 digest (…@sha256:<64 hex>)")
    return image


def write_image(name: str, image: str, directory: Path = ENVIRONMENTS_DIR) -> None:
    """Set an environment's image (CI's release step and promotion call this)."""
    (directory / name / IMAGE_FILE).write_text(validate_image(image) + "\n")


def load_infrastructure(directory: Path = ENVIRONMENTS_DIR) -> Infrastructure:
    data = _read(directory / INFRASTRUCTURE_FILE, INFRASTRUCTURE_FILE, json.loads)
    infrastructure = _decode(data, Infrastructure, INFRASTRUCTURE_FILE)
    arns = dict(sorted(infrastructure.database_backup_role_arns.items()))
    return msgspec.structs.replace(infrastructure, database_backup_role_arns=arns)


def load_ops(directory: Path = ENVIRONMENTS_DIR) -> Ops:
    ops = _decode(_read(directory / OPS_FILE, OPS_FILE, tomllib.loads), Ops, OPS_FILE)
    if not ops.allowed_source_ranges:
        raise InvalidEnvironmentError(f"{OPS_FILE}: allowed_source_ranges: needs at least one network")
    for index, cidr in enumerate(ops.allowed_source_ranges):
        where = f"{OPS_FILE}: allowed_source_ranges[{index}]"
        try:
            network = ipaddress.ip_network(cidr)  # strict: host bits set is a typo, refused
        except ValueError as error:
            raise InvalidEnvironmentError(f"{where}: {cidr!r} is not a network in CIDR form ({error})") from None
        if network.prefixlen == 0:
            raise InvalidEnvironmentError(f"{where}: {cidr!r} lets everyone in; list the operators' networks")
    return ops


def load_environment(name: str, directory: Path = ENVIRONMENTS_DIR) -> Environment:
    place = f"{name}/{SETTINGS_FILE}"
    settings = _decode(_read(directory / name / SETTINGS_FILE, place, tomllib.loads), EnvironmentSettings, place)
    if settings.autoscaling.min_replicas > settings.autoscaling.max_replicas:
        raise InvalidEnvironmentError(f"{place}: autoscaling: needs min_replicas <= max_replicas")
    if settings.tls_issuer not in TLS_ISSUERS:
        issuers = ", ".join(TLS_ISSUERS)
        raise InvalidEnvironmentError(f"{place}: tls_issuer: {settings.tls_issuer!r} is not one of {issuers}")
    infrastructure = load_infrastructure(directory)
    if name not in infrastructure.database_backup_role_arns:
        raise InvalidEnvironmentError(f"{INFRASTRUCTURE_FILE}: database_backup_role_arns.{name}: missing")
    return Environment(
        **msgspec.structs.asdict(settings),
        name=name,
        image=read_image(name, directory),
        infrastructure=infrastructure,
    )


def load_all(directory: Path = ENVIRONMENTS_DIR) -> tuple[Environment, ...]:
    return tuple(load_environment(name, directory) for name in ENVIRONMENT_NAMES)
