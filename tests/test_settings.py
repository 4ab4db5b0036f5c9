from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from expense_tracker.settings import DEV_SECRET_KEY, SETTINGS, SettingsError, load_settings, settings_table

# Real outputs of the documented generators, pasted as literals (test keys, never used anywhere else).
URLSAFE_KEY = "cfAOykWhobo65694Q9eyyRMn4eH4BMZoq5cVU9Za-2I"  # secrets.token_urlsafe(32)
HEX_KEY = "12dc85dbb7ed2d7184671457555f3624bffbbe8d30e1b89987e68a1cf9370c4c"  # openssl rand -hex 32
BASE64_KEY = "8jvpBb0RrRmylJRnxYZd/QMR7/utkZUbAVED8Ehkc98="  # openssl rand -base64 32
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": URLSAFE_KEY,
    "DATABASE_URL": "postgresql+asyncpg://app@db/app",
    "PUBLIC_URL": "https://expenses.example.com",
}


def test_development_defaults() -> None:
    settings = load_settings({})
    assert settings.app_env == "development"
    assert settings.database_url == "sqlite+aiosqlite:///expense-tracker.sqlite3"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.dev_login is True
    assert settings.google is None
    assert settings.oidc is None


def test_valid_production() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.is_production
    assert settings.dev_login is False
    assert settings.absolute_url("/auth/google/callback") == "https://expenses.example.com/auth/google/callback"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEV_LOGIN": "true"}, "DEV_LOGIN"),
        ({"PUBLIC_URL": "http://expenses.example.com"}, "PUBLIC_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"GOOGLE_CLIENT_ID": "id"}, "GOOGLE_CLIENT_SECRET"),
        ({"OIDC_CLIENT_ID": "id", "OIDC_CLIENT_SECRET": "s"}, "OIDC_DISCOVERY_URL"),
        (
            {
                "OIDC_DISCOVERY_URL": "http://127.0.0.1:8080/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": "i",
                "OIDC_CLIENT_SECRET": "s",
            },
            "https",
        ),
        ({"SESSION_TTL_MINUTES": "soon"}, "SESSION_TTL_MINUTES"),
        ({"SESSION_CACHE_SECONDS": "-1"}, "SESSION_CACHE_SECONDS"),
        ({"SESSION_CACHE_SECONDS": "61"}, "SESSION_CACHE_SECONDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**PRODUCTION, **overrides})


@pytest.mark.parametrize("key", [URLSAFE_KEY, HEX_KEY, BASE64_KEY])
def test_production_accepts_generated_secret_keys(key: str) -> None:
    assert load_settings({**PRODUCTION, "SECRET_KEY": key}).secret_key == key


@pytest.mark.parametrize(
    "key",
    [
        "development-only-secret-key-never-use-in-production",  # the public development default
        "a" * 32,
        "s" * 64,
        "ab" * 32,
        "changeme" * 4,
        "0123456789" * 4,  # ten distinct characters, but a pattern (133 bits by the estimate)
        "my-super-secret-production-key-2024!",
        "stand-in-secret_key-" + "x" * 32,
    ],
)
def test_production_refuses_guessable_secret_keys(key: str) -> None:
    with pytest.raises(SettingsError, match=r"SECRET_KEY .*openssl rand -hex 32") as refused:
        load_settings({**PRODUCTION, "SECRET_KEY": key})
    assert key not in str(refused.value)  # the error (and so the crash-looping pod's log) never echoes the key


def test_development_still_runs_with_the_default_key() -> None:
    assert load_settings({"SECRET_KEY": "a" * 32}).secret_key == "a" * 32
    assert load_settings({}).secret_key == "development-only-secret-key-never-use-in-production"


def test_oidc_discovery_over_http_only_on_loopback_in_development() -> None:
    base = {"OIDC_CLIENT_ID": "i", "OIDC_CLIENT_SECRET": "s"}
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9000/x", "https://idp.example.com/x"):
        assert load_settings({**base, "OIDC_DISCOVERY_URL": url}).oidc is not None
    with pytest.raises(SettingsError, match="https"):
        load_settings({**base, "OIDC_DISCOVERY_URL": "http://idp.example.com/x"})


def test_app_refuses_to_start_with_bad_production_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from expense_tracker.app import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError):
        create_app()


def test_the_readme_settings_table_is_the_catalogue(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    start = readme.index("| Variable | Kind | Default | Meaning |")
    table = readme[start : readme.index("\n\n", start) + 1]
    assert table == settings_table(), "README.md: paste `python -m expense_tracker.settings` over the settings table"
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE))
    assert documented == {spec.name for spec in SETTINGS}
    # A few rows as a person reads them, written out here rather than taken from the catalogue.
    for row in (
        "| `DATABASE_URL` | secret | sqlite+aiosqlite:///expense-tracker.sqlite3 |",
        "| `PUBLIC_URL` | config | http://127.0.0.1:8000 |",
        "| `LOG_LEVEL` | config | INFO |",
        "| `DEV_LOGIN` | config | true in development, false in production |",
        "| `SECRET_KEY` | secret | — |",
    ):
        assert row in table


# What an empty environment means, written out (README "Settings"): the catalogue's defaults, parsed.
DEVELOPMENT_DEFAULTS = {
    "app_env": "development",
    "database_url": "sqlite+aiosqlite:///expense-tracker.sqlite3",
    "secret_key": "development-only-secret-key-never-use-in-production",
    "public_url": "http://127.0.0.1:8000",
    "google": None,
    "oidc": None,
    "dev_login": True,
    "session_ttl_minutes": 720,
    "session_cache_seconds": 5,
    "db_pool_size": 10,
    "db_max_overflow": 0,
    "log_level": "INFO",
    "build_commit": "unknown",
    "redis_url": None,
    "trusted_proxy_hops": 0,
    "rate_limit_auth": "20/minute;200/hour",
    "rate_limit_writes": "120/minute",
    "rate_limit_imports": "5/minute;30/hour",
    "rate_limit_prefix": "expense-tracker",
}


def test_an_empty_environment_gets_every_default() -> None:
    assert dataclasses.asdict(load_settings({})) == DEVELOPMENT_DEFAULTS


def test_a_blank_variable_is_the_same_as_an_unset_one() -> None:
    blank = {spec.name: "  " for spec in SETTINGS}
    assert dataclasses.asdict(load_settings(blank)) == DEVELOPMENT_DEFAULTS


def test_production_turns_dev_login_off_by_default() -> None:
    assert load_settings(PRODUCTION).dev_login is False


def test_the_worker_count_defaults_to_one() -> None:
    from expense_tracker.cli import run_command

    (workers,) = [option for option in run_command.params if option.name == "workers"]
    assert workers.default == 1


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_plain_postgresql_uri_from_cloudnativepg_uses_asyncpg(scheme: str) -> None:
    settings = load_settings({**PRODUCTION, "DATABASE_URL": f"{scheme}app:pw@db-rw.ns:5432/app"})
    assert settings.database_url == "postgresql+asyncpg://app:pw@db-rw.ns:5432/app"
