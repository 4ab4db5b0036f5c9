"""The app's settings: the ConfigMap, the ExternalSecret, and the environment variables that read them."""

from __future__ import annotations

import hashlib
import json

from hikaru import HikaruDocumentBase
from hikaru.model.rel_1_28 import v1

from expense_tracker.constants import APP_NAME, PROMETHEUS_MULTIPROC_DIR
from expense_tracker.settings import SETTING_NAMES
from manifests_py import names
from manifests_py.components.app.chart import WEB, EnvironmentChart, Wave
from manifests_py.components.app.database import database_secret
from manifests_py.environments import Environment
from manifests_py.objects import external_secret

APP_SECRET = f"{APP_NAME}-app"
APP_CONFIG = f"{APP_NAME}-config"


def config_data(environment: Environment) -> dict[str, str]:
    """Non-secret settings, by the names the app's settings catalogue defines."""
    data = {
        "APP_ENV": "production",
        "PUBLIC_URL": environment.public_url,
        "DEV_LOGIN": "false",
        "LOG_LEVEL": environment.log_level,
        "WEB_CONCURRENCY": str(environment.web_concurrency),
        "PROMETHEUS_MULTIPROC_DIR": PROMETHEUS_MULTIPROC_DIR,
        # One proxy in front of the pods: ingress-nginx (the NLB keeps client addresses, externalTrafficPolicy Local).
        # Its X-Forwarded-For entry is the client's address; without this every sign-in would count as the proxy's.
        "TRUSTED_PROXY_HOPS": "1",
    }
    if environment.sign_in.oidc:
        data["OIDC_DISCOVERY_URL"] = environment.sign_in.oidc.discovery_url
        data["OIDC_PROVIDER_NAME"] = environment.sign_in.oidc.name
    return data


def secret_keys(environment: Environment) -> list[str]:
    """Settings the ExternalSecret copies from Secrets Manager. Client ids live beside their secrets in the store, so
    the pair an operator registers with a provider is rotated in one place."""
    keys = ["SECRET_KEY"]
    if environment.sign_in.google:
        keys += ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]
    if environment.sign_in.oidc:
        keys += ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"]
    return keys


def checksum(environment: Environment) -> str:
    """Changes when the settings do, so pods that carry it roll: covers the ConfigMap data and which secret keys are
    read (the secret values themselves live outside git)."""
    settings = {"config": config_data(environment), "secrets": secret_keys(environment)}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def container_env(environment: Environment) -> list[v1.EnvVar]:
    """Every setting as an environment variable; a name the app's settings catalogue lacks is an error here, not a
    variable the app silently ignores."""
    env = [
        v1.EnvVar(
            name=key, valueFrom=v1.EnvVarSource(configMapKeyRef=v1.ConfigMapKeySelector(name=APP_CONFIG, key=key))
        )
        for key in sorted(config_data(environment))
    ]
    env += [
        v1.EnvVar(name=key, valueFrom=v1.EnvVarSource(secretKeyRef=v1.SecretKeySelector(name=APP_SECRET, key=key)))
        for key in secret_keys(environment)
    ]
    env.append(
        v1.EnvVar(
            name="DATABASE_URL",
            valueFrom=v1.EnvVarSource(secretKeyRef=v1.SecretKeySelector(name=database_secret(environment), key="uri")),
        )
    )
    unknown = {item.name for item in env} - SETTING_NAMES
    if unknown:
        raise ValueError(f"env names the app does not read: {sorted(unknown)}")
    return env


def build(chart: EnvironmentChart) -> list[HikaruDocumentBase]:
    environment = chart.environment
    return [
        v1.ConfigMap(metadata=chart.meta(APP_CONFIG, WEB, Wave.PREREQUISITES), data=config_data(environment)),
        external_secret(
            chart.meta(APP_SECRET, WEB, Wave.PREREQUISITES),
            names.app_secret_id(environment.name),
            secret_keys(environment),
        ),
    ]
