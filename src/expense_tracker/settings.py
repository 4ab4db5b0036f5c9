"""Application settings, read from the environment in one place.

``SETTINGS`` is the catalogue of every environment variable the app reads: the README table, the generated
Kubernetes ConfigMap/ExternalSecret and the settings tests are all derived from it.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

MIN_SECRET_KEY_BYTES = 32
DEV_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105 - refused in production
# A key typed by a person (a phrase, a repeated pattern) is guessable even when long enough. These bounds sit far
# below what random keys score: secrets.token_urlsafe(32) has ~31 distinct characters and ~208 bits by the estimate
# below (lowest seen in 50,000 draws: 179), openssl rand -hex 32 has 16 and ~244 bits.
MIN_SECRET_KEY_DISTINCT_CHARS = 10
MIN_SECRET_KEY_ENTROPY_BITS = 160
KEY_GENERATION_HINT = (
    "generate one with `openssl rand -hex 32` or `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


class SettingsError(ValueError):
    """The environment does not describe a runnable app; the message says which variable and why."""


Parser = Callable[[str, str], Any]
"""``(name, raw value) -> value``; raises :class:`SettingsError` naming the variable when the value is refused."""


def _text(name: str, raw: str) -> str:
    del name
    return raw.strip()


def _verbatim(name: str, raw: str) -> str:
    """Secrets are used exactly as stored: stripping a key would change every signature made with it."""
    del name
    return raw


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


def _at_least(minimum: int) -> Parser:
    return lambda name, raw: _int(name, raw, minimum)


def _between(minimum: int, maximum: int) -> Parser:
    def parse(name: str, raw: str) -> int:
        value = _int(name, raw, minimum)
        if value > maximum:
            raise SettingsError(f"{name} must be at most {maximum}, got {value}")
        return value

    return parse


def _app_env(name: str, raw: str) -> str:
    value = raw.strip()
    if value not in {"development", "production"}:
        raise SettingsError(f"{name} must be 'development' or 'production', got {value!r}")
    return value


def _database_url(name: str, raw: str) -> str:
    url = raw.strip()
    # The plain libpq form is what CloudNativePG puts in its generated app Secret (key `uri`); asyncpg speaks it.
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+asyncpg://" + url.removeprefix(plain)
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise SettingsError(f"{name} must start with postgresql+asyncpg://, postgresql:// or sqlite+aiosqlite://")
    return url


def _public_url(name: str, raw: str) -> str:
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name} must be an absolute http(s) URL, got {url!r}")
    return url


def _log_level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(f"{name} must be a logging level name, got {level!r}")
    return level


def _redis_url(name: str, raw: str) -> str:
    url = raw.strip()
    if urlsplit(url).scheme not in {"redis", "rediss"}:
        raise SettingsError(f"{name} must start with redis:// or rediss://")
    return url


def _rate_limits(name: str, raw: str) -> str:
    from limits import parse_many

    value = raw.strip()
    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(f"{name} must be limits such as '10/minute;100/hour', got {value!r}") from None
    return value


@dataclass(frozen=True)
class SettingSpec:
    """One environment variable the app understands: its name, meaning, default and parser, declared once."""

    name: str
    description: str
    default: str | None = None
    """Used when the variable is unset or blank; ``None``: the setting is off (or, for SECRET_KEY in production,
    missing)."""
    secret: bool = False
    """Secret settings come from the secret store (ExternalSecret), never from a ConfigMap or git."""
    parse: Parser = _text
    production_default: str | None = None
    """The default in production, where it differs from ``default``."""

    @property
    def documented_default(self) -> str:
        """The Default column of the README's settings table."""
        if self.production_default is not None:
            return f"{self.default} in development, {self.production_default} in production"
        return self.default if self.default is not None else "—"


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "APP_ENV",
        "`development` or `production`. Production enforces the checks below.",
        "development",
        parse=_app_env,
    ),
    SettingSpec(
        "DATABASE_URL",
        "`postgresql+asyncpg://user:pass@host/db` (the plain `postgresql://` URI CloudNativePG generates is accepted), "
        "or SQLite (`sqlite+aiosqlite:///file`).",
        "sqlite+aiosqlite:///expense-tracker.sqlite3",
        secret=True,
        parse=_database_url,
    ),
    SettingSpec(
        "SECRET_KEY",
        "Signs sessions and CSRF tokens. Required in production: at least 32 bytes of random, such as "
        "`openssl rand -hex 32`; the development default and guessable keys are refused.",
        secret=True,
        parse=_verbatim,
    ),
    SettingSpec(
        "PUBLIC_URL",
        "External base URL (scheme + host); OAuth redirect URIs and absolute links are built from it.",
        "http://127.0.0.1:8000",
        parse=_public_url,
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
        "true",
        parse=_bool,
        production_default="false",
    ),
    SettingSpec("SESSION_TTL_MINUTES", "Lifetime of a session token.", "720", parse=_at_least(5)),
    SettingSpec(
        "SESSION_CACHE_SECONDS",
        "How long a worker trusts a session token it has checked (user active, token not revoked) before asking the "
        "database again. A logout or settings change takes effect at once in the worker that handled it and within "
        "this bound in the others; 0 checks every request, 60 at most (it is how long a revoked session may live on).",
        "5",
        parse=_between(0, 60),
    ),
    # 10 + 0: under 16 concurrent requests per worker, 5 + 5 made requests queue for a connection and opened and
    # closed overflow connections (a server fork each) all the time: GET p99 0.8-2.8 s against 41-51 ms with 10 + 0
    # (docs/performance.md, "Connection pool"). tests/manifests/test_connection_budget.py keeps every pod's pools
    # within the database's max_connections at the HPA's maximum plus the rolling update's surge.
    SettingSpec("DB_POOL_SIZE", "Connections kept open per worker process.", "10", parse=_at_least(1)),
    SettingSpec(
        "DB_MAX_OVERFLOW",
        "Extra connections a worker may open under load (each opened and closed again: a fork on the server).",
        "0",
        parse=_at_least(0),
    ),
    SettingSpec("LOG_LEVEL", "Minimum log level.", "INFO", parse=_log_level),
    SettingSpec("BUILD_COMMIT", "Git commit of the running build, exported as `build_info{commit}`.", "unknown"),
    SettingSpec(
        "PROMETHEUS_MULTIPROC_DIR",
        "Writable directory for prometheus-client multiprocess mode; required with more than one worker.",
    ),
    SettingSpec("WEB_CONCURRENCY", "Worker processes started by `expense-tracker run`.", "1", parse=_at_least(1)),
    SettingSpec(
        "REDIS_URL",
        "Redis for rate-limit counters shared by every worker and pod (`redis://host:6379/0`). Unset: each worker "
        "process counts on its own, so the effective limit is the configured one times the number of processes.",
        secret=True,
        parse=_redis_url,
    ),
    SettingSpec(
        "TRUSTED_PROXY_HOPS",
        "Reverse proxies in front of the app that append to `X-Forwarded-For` (1 behind ingress-nginx). The client "
        "address is the entry the outermost trusted proxy added; 0 ignores the header and uses the socket address.",
        "0",
        parse=_at_least(0),
    ),
    SettingSpec(
        "RATE_LIMIT_AUTH",
        "Sign-in starts, callbacks and dev login per client address (an IPv6 client by its /64; `;`-separated limits). "
        "A sign-in counts twice (start and callback).",
        "20/minute;200/hour",  # a sign-in is two hits, and an office or a mobile carrier puts many behind one address
        parse=_rate_limits,
    ),
    SettingSpec("RATE_LIMIT_WRITES", "POST/PUT/PATCH/DELETE requests per user.", "120/minute", parse=_rate_limits),
    SettingSpec(
        "RATE_LIMIT_IMPORTS", "CSV imports per user (all limits apply).", "5/minute;30/hour", parse=_rate_limits
    ),
)
SETTINGS_BY_NAME: Final = {spec.name: spec for spec in SETTINGS}
SETTING_NAMES = frozenset(SETTINGS_BY_NAME)


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
    """The parsed environment; build it with :func:`load_settings` (the defaults live in ``SETTINGS``)."""

    app_env: Literal["development", "production"]
    database_url: str
    secret_key: str
    public_url: str
    google: OAuthClientSettings | None
    oidc: OIDCSettings | None
    dev_login: bool
    session_ttl_minutes: int
    session_cache_seconds: int
    db_pool_size: int
    db_max_overflow: int
    log_level: str
    build_commit: str
    redis_url: str | None
    trusted_proxy_hops: int
    rate_limit_auth: str
    rate_limit_writes: str
    rate_limit_imports: str
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


def setting_value(name: str, environ: Mapping[str, str], *, production: bool = False) -> Any:
    """The catalogue's parse of ``name`` from ``environ``, or of its default when unset or blank (``None``: none)."""
    spec = SETTINGS_BY_NAME[name]
    raw = environ.get(name)
    if raw is None or not raw.strip():
        raw = spec.production_default if production and spec.production_default is not None else spec.default
    return None if raw is None else spec.parse(name, raw)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pair(env: Mapping[str, str], first: str, second: str) -> tuple[str, str] | None:
    a, b = setting_value(first, env), setting_value(second, env)
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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: ``os.environ``), refusing unsafe production setups.

    Each variable is parsed by its catalogue entry; the rules that tie several together are here."""
    env = os.environ if environ is None else environ
    production = setting_value("APP_ENV", env) == "production"

    def value(name: str) -> Any:
        return setting_value(name, env, production=production)

    secret_key = value("SECRET_KEY") or ""
    if production:
        _check_secret_key(secret_key)
    dev_login = value("DEV_LOGIN")
    if production and dev_login:
        raise SettingsError("DEV_LOGIN must not be enabled in production")
    public_url = value("PUBLIC_URL")
    if production and urlsplit(public_url).scheme != "https":
        raise SettingsError("PUBLIC_URL must use https:// in production")

    google = _pair(env, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
    oidc_client = _pair(env, "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
    discovery_url = value("OIDC_DISCOVERY_URL")
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
        oidc = OIDCSettings(*oidc_client, discovery_url=discovery_url, provider_name=value("OIDC_PROVIDER_NAME"))

    return Settings(
        app_env="production" if production else "development",
        database_url=value("DATABASE_URL"),
        secret_key=secret_key or DEV_SECRET_KEY,
        public_url=public_url,
        google=OAuthClientSettings(*google) if google else None,
        oidc=oidc,
        dev_login=dev_login,
        session_ttl_minutes=value("SESSION_TTL_MINUTES"),
        session_cache_seconds=value("SESSION_CACHE_SECONDS"),
        db_pool_size=value("DB_POOL_SIZE"),
        db_max_overflow=value("DB_MAX_OVERFLOW"),
        log_level=value("LOG_LEVEL"),
        build_commit=value("BUILD_COMMIT"),
        redis_url=value("REDIS_URL"),
        trusted_proxy_hops=value("TRUSTED_PROXY_HOPS"),
        rate_limit_auth=value("RATE_LIMIT_AUTH"),
        rate_limit_writes=value("RATE_LIMIT_WRITES"),
        rate_limit_imports=value("RATE_LIMIT_IMPORTS"),
    )


def settings_table() -> str:
    """The README's settings table, generated from ``SETTINGS`` (tests/test_settings.py checks the README holds it)."""
    rows = ["| Variable | Kind | Default | Meaning |", "|---|---|---|---|"]
    for spec in SETTINGS:
        kind = "secret" if spec.secret else "config"
        rows.append(f"| `{spec.name}` | {kind} | {spec.documented_default} | {spec.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # `python -m expense_tracker.settings` prints the table for the README
    print(settings_table(), end="")
