"""Application settings, read from the environment in one place.

``SETTINGS`` is the catalogue of every environment variable the app reads: the README table, the generated
Kubernetes ConfigMap/ExternalSecret and the settings tests are all derived from it.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

MIN_SECRET_KEY_BYTES = 32
# A sign-in costs two hits (start + callback), and an office or a mobile carrier puts many people behind one address.
DEFAULT_RATE_LIMIT_AUTH = "20/minute;200/hour"
DEFAULT_RATE_LIMIT_WRITES = "120/minute"
DEFAULT_RATE_LIMIT_IMPORTS = "5/minute;30/hour"
DEV_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105 - refused in production
# A key typed by a person (a phrase, a repeated pattern) is guessable even when long enough. These bounds sit far
# below what random keys score: secrets.token_urlsafe(32) has ~31 distinct characters and ~208 bits by the estimate
# below (lowest seen in 50,000 draws: 179), openssl rand -hex 32 has 16 and ~244 bits.
MIN_SECRET_KEY_DISTINCT_CHARS = 10
MIN_SECRET_KEY_ENTROPY_BITS = 160
KEY_GENERATION_HINT = (
    "generate one with `openssl rand -hex 32` or `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


@dataclass(frozen=True)
class SettingSpec:
    """One environment variable the app understands."""

    name: str
    description: str
    default: str | None = None
    secret: bool = False
    """Secret settings come from the secret store (ExternalSecret), never from a ConfigMap or git."""


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("APP_ENV", "`development` or `production`. Production enforces the checks below.", "development"),
    SettingSpec(
        "DATABASE_URL",
        "`postgresql+asyncpg://user:pass@host/db` (the plain `postgresql://` URI CloudNativePG generates is accepted), "
        "or SQLite (`sqlite+aiosqlite:///file`).",
        "sqlite+aiosqlite:///expense-tracker.sqlite3",
        secret=True,
    ),
    SettingSpec(
        "SECRET_KEY",
        "Signs sessions and CSRF tokens. Required in production: at least 32 bytes of random, such as "
        "`openssl rand -hex 32`; the development default and guessable keys are refused.",
        secret=True,
    ),
    SettingSpec(
        "PUBLIC_URL",
        "External base URL (scheme + host); OAuth redirect URIs and absolute links are built from it.",
        "http://127.0.0.1:8000",
    ),
    SettingSpec("GOOGLE_CLIENT_ID", "Google OAuth client id; Google sign-in is offered when id and secret are set."),
    SettingSpec("GOOGLE_CLIENT_SECRET", "Google OAuth client secret.", secret=True),
    SettingSpec(
        "OIDC_DISCOVERY_URL",
        "OpenID Connect discovery URL (`.../.well-known/openid-configuration`); `https://` only in production.",
    ),
    SettingSpec("OIDC_CLIENT_ID", "OIDC client id."),
    SettingSpec("OIDC_CLIENT_SECRET", "OIDC client secret.", secret=True),
    SettingSpec("OIDC_PROVIDER_NAME", "Name shown on the sign-in button for the OIDC provider.", "Single sign-on"),
    SettingSpec(
        "DEV_LOGIN",
        "`true` enables password-less `POST /auth/dev-login` (development only; production refuses to start with it).",
        "true in development, false in production",
    ),
    SettingSpec("SESSION_TTL_MINUTES", "Lifetime of a session token.", "720"),
    SettingSpec("DB_POOL_SIZE", "Connections kept open per worker process.", "5"),
    SettingSpec("DB_MAX_OVERFLOW", "Extra connections a worker may open under load.", "5"),
    SettingSpec("LOG_LEVEL", "Minimum log level.", "INFO"),
    SettingSpec("BUILD_COMMIT", "Git commit of the running build, exported as `build_info{commit}`.", "unknown"),
    SettingSpec(
        "PROMETHEUS_MULTIPROC_DIR",
        "Writable directory for prometheus-client multiprocess mode; required with more than one worker.",
    ),
    SettingSpec("WEB_CONCURRENCY", "Worker processes started by `expense-tracker run`.", "1"),
    SettingSpec(
        "REDIS_URL",
        "Redis for rate-limit counters shared by every worker and pod (`redis://host:6379/0`). Unset: each worker "
        "process counts on its own, so the effective limit is the configured one times the number of processes.",
        secret=True,
    ),
    SettingSpec(
        "TRUSTED_PROXY_HOPS",
        "Reverse proxies in front of the app that append to `X-Forwarded-For` (1 behind ingress-nginx). The client "
        "address is the entry the outermost trusted proxy added; 0 ignores the header and uses the socket address.",
        "0",
    ),
    SettingSpec(
        "RATE_LIMIT_AUTH",
        "Sign-in starts, callbacks and dev login per client address (an IPv6 client by its /64; `;`-separated limits). "
        "A sign-in counts twice (start and callback).",
        DEFAULT_RATE_LIMIT_AUTH,
    ),
    SettingSpec("RATE_LIMIT_WRITES", "POST/PUT/PATCH/DELETE requests per user.", DEFAULT_RATE_LIMIT_WRITES),
    SettingSpec("RATE_LIMIT_IMPORTS", "CSV imports per user (all limits apply).", DEFAULT_RATE_LIMIT_IMPORTS),
)
SETTING_NAMES = frozenset(spec.name for spec in SETTINGS)


class SettingsError(ValueError):
    """The environment does not describe a runnable app; the message says which variable and why."""


@dataclass(frozen=True)
class OAuthClientSettings:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class OIDCSettings(OAuthClientSettings):
    discovery_url: str
    provider_name: str


@dataclass(frozen=True)
class Settings:
    app_env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///expense-tracker.sqlite3"
    secret_key: str = DEV_SECRET_KEY
    public_url: str = "http://127.0.0.1:8000"
    google: OAuthClientSettings | None = None
    oidc: OIDCSettings | None = None
    dev_login: bool = True
    session_ttl_minutes: int = 720
    db_pool_size: int = 5
    db_max_overflow: int = 5
    log_level: str = "INFO"
    build_commit: str = "unknown"
    redis_url: str | None = None
    trusted_proxy_hops: int = 0
    rate_limit_auth: str = DEFAULT_RATE_LIMIT_AUTH
    rate_limit_writes: str = DEFAULT_RATE_LIMIT_WRITES
    rate_limit_imports: str = DEFAULT_RATE_LIMIT_IMPORTS
    rate_limit_prefix: str = "expense-tracker"
    """Redis key prefix of the rate-limit counters (not an environment setting; tests use one of their own)."""

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def absolute_url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pair(env: Mapping[str, str], first: str, second: str) -> tuple[str, str] | None:
    a, b = env.get(first, "").strip(), env.get(second, "").strip()
    if a and b:
        return a, b
    if a or b:
        raise SettingsError(f"{first} and {second} must be set together")
    return None


def _entropy_bits(value: str) -> float:
    """Shannon estimate of the information in ``value`` from its own character frequencies (bits per character
    times length): near zero for repeats, low for phrases and patterns, about 200+ for 32 random bytes encoded."""
    length = len(value)
    return -sum(n * math.log2(n / length) for n in Counter(value).values())


def _check_secret_key(key: str) -> None:
    """Refuse production keys anyone could know or guess: a token signed with such a key is a valid session.
    The messages never contain the key (they end up in the crash-looping pod's log)."""
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        problem = f"is required in production and must be at least {MIN_SECRET_KEY_BYTES} bytes"
    elif key == DEV_SECRET_KEY:
        problem = "is the public development default"
    elif len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARS or _entropy_bits(key) < MIN_SECRET_KEY_ENTROPY_BITS:
        problem = "looks guessable (too few different characters or a pattern); it must be random"
    else:
        return
    raise SettingsError(f"SECRET_KEY {problem}: {KEY_GENERATION_HINT}")


def _rate_limits(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    raw = env.get(name, "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name} must be limits such as '10/minute;100/hour', got {raw!r}") from None
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if raw and urlsplit(raw).scheme not in {"redis", "rediss"}:
        raise SettingsError("REDIS_URL must start with redis:// or rediss://")
    return raw or None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: ``os.environ``), refusing unsafe production setups."""
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development").strip() or "development"
    if app_env not in {"development", "production"}:
        raise SettingsError(f"APP_ENV must be 'development' or 'production', got {app_env!r}")
    production = app_env == "production"

    secret_key = env.get("SECRET_KEY", "")
    if production:
        _check_secret_key(secret_key)
    secret_key = secret_key or DEV_SECRET_KEY

    dev_login = _bool("DEV_LOGIN", env.get("DEV_LOGIN", "false" if production else "true"))
    if production and dev_login:
        raise SettingsError("DEV_LOGIN must not be enabled in production")

    database_url = env.get("DATABASE_URL", "").strip() or "sqlite+aiosqlite:///expense-tracker.sqlite3"
    # The plain libpq form is what CloudNativePG puts in its generated app Secret (key `uri`); asyncpg speaks it.
    for plain in ("postgresql://", "postgres://"):
        if database_url.startswith(plain):
            database_url = "postgresql+asyncpg://" + database_url.removeprefix(plain)
    if not database_url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise SettingsError("DATABASE_URL must start with postgresql+asyncpg://, postgresql:// or sqlite+aiosqlite://")

    public_url = (env.get("PUBLIC_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"PUBLIC_URL must be an absolute http(s) URL, got {public_url!r}")
    if production and parts.scheme != "https":
        raise SettingsError("PUBLIC_URL must use https:// in production")

    google = _pair(env, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
    oidc_client = _pair(env, "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
    discovery_url = env.get("OIDC_DISCOVERY_URL", "").strip()
    if bool(oidc_client) != bool(discovery_url):
        raise SettingsError("OIDC_DISCOVERY_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together")
    oidc = None
    if oidc_client and discovery_url:
        url = urlsplit(discovery_url)
        insecure_ok = not production and url.scheme == "http" and _is_loopback(url.hostname)
        if url.scheme != "https" and not insecure_ok:
            raise SettingsError(
                "OIDC_DISCOVERY_URL must use https:// (http:// is accepted only for loopback hosts in development)"
            )
        oidc = OIDCSettings(
            client_id=oidc_client[0],
            client_secret=oidc_client[1],
            discovery_url=discovery_url,
            provider_name=env.get("OIDC_PROVIDER_NAME", "").strip() or "Single sign-on",
        )

    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(f"LOG_LEVEL must be a logging level name, got {log_level!r}")

    return Settings(
        app_env="production" if production else "development",
        database_url=database_url,
        secret_key=secret_key,
        public_url=public_url,
        google=OAuthClientSettings(*google) if google else None,
        oidc=oidc,
        dev_login=dev_login,
        session_ttl_minutes=_int("SESSION_TTL_MINUTES", env.get("SESSION_TTL_MINUTES", "720"), 5),
        db_pool_size=_int("DB_POOL_SIZE", env.get("DB_POOL_SIZE", "5"), 1),
        db_max_overflow=_int("DB_MAX_OVERFLOW", env.get("DB_MAX_OVERFLOW", "5"), 0),
        log_level=log_level,
        build_commit=env.get("BUILD_COMMIT", "").strip() or "unknown",
        redis_url=_redis_url(env),
        trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", env.get("TRUSTED_PROXY_HOPS", "0"), 0),
        rate_limit_auth=_rate_limits(env, "RATE_LIMIT_AUTH", DEFAULT_RATE_LIMIT_AUTH),
        rate_limit_writes=_rate_limits(env, "RATE_LIMIT_WRITES", DEFAULT_RATE_LIMIT_WRITES),
        rate_limit_imports=_rate_limits(env, "RATE_LIMIT_IMPORTS", DEFAULT_RATE_LIMIT_IMPORTS),
    )
