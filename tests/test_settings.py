from __future__ import annotations

import re
from pathlib import Path

import pytest

from expense_tracker.settings import DEV_SECRET_KEY, SETTINGS, SettingsError, load_settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 32,
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
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**PRODUCTION, **overrides})


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


def test_every_setting_is_documented_in_the_readme(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == {spec.name for spec in SETTINGS}


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_plain_postgresql_uri_from_cloudnativepg_uses_asyncpg(scheme: str) -> None:
    settings = load_settings({**PRODUCTION, "DATABASE_URL": f"{scheme}app:pw@db-rw.ns:5432/app"})
    assert settings.database_url == "postgresql+asyncpg://app:pw@db-rw.ns:5432/app"
