from __future__ import annotations

import json
import logging

import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import create_async_engine

from expense_tracker.lib.logging import configure_logging
from expense_tracker.settings import load_settings
from tests.conftest import TEST_SECRET, Session

Client = AsyncTestClient[Litestar]


async def test_settings_round_trip(client: Client, user: Session) -> None:
    assert (await client.get("/api/settings", headers=user.headers)).json() == {
        "currency": "USD",
        "theme": "system",
        "timezone": "UTC",
        "locale": None,
        "convert_totals": False,
    }
    body = {"currency": "eur", "theme": "dark", "timezone": "Europe/Berlin", "convert_totals": True}
    saved = await client.put("/api/settings", json=body, headers=user.headers)
    assert saved.json() == {
        "currency": "EUR",
        "theme": "dark",
        "timezone": "Europe/Berlin",
        "locale": None,
        "convert_totals": True,
    }
    assert (await client.get("/api/settings", headers=user.headers)).json() == saved.json()
    me = (await client.get("/api/me", headers=user.headers)).json()
    assert (me["currency"], me["theme"], me["timezone"]) == ("EUR", "dark", "Europe/Berlin")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "EURO", "theme": "dark", "timezone": "UTC"}, "currency"),
        ({"currency": "EUR", "theme": "blue", "timezone": "UTC"}, "theme"),
        ({"currency": "EUR", "theme": "dark", "timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "EUR", "theme": "dark"}, "timezone"),
    ],
)
async def test_settings_validation(client: Client, user: Session, body: dict[str, str], field: str) -> None:
    response = await client.put("/api/settings", json=body, headers=user.headers)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]} or field in response.text
    assert (await client.get("/api/settings", headers=user.headers)).json()["theme"] == "system"


# SQLite cannot reflect expression indexes; the PostgreSQL-only search index is compared on PostgreSQL.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index 'ix_expense_search")
async def test_migrations_match_the_models(database_url: str) -> None:
    """The committed migrations produce exactly the schema the models describe (no pending autogenerate diff)."""
    from advanced_alchemy.base import metadata_registry
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    # SQLite reflects column types only as affinities, so types are compared on PostgreSQL alone.
    dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"

    def exists_here(obj: object, _name: object, _type: object, _reflected: object, _compare_to: object) -> bool:
        # Objects declared for one dialect only (``info={"dialects": ...}``, e.g. the search's trigram index).
        return dialect in getattr(obj, "info", {}).get("dialects", (dialect,))

    options = {"compare_type": dialect == "postgresql", "include_object": exists_here}
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts=options), metadata_registry.get(None))
        )
    await engine.dispose()
    assert diff == []


def test_production_logs_are_json_and_mask_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings({"APP_ENV": "production", "SECRET_KEY": TEST_SECRET, "PUBLIC_URL": "https://x.io"}))
    try:
        structlog.get_logger("test").info("signed in", token="eyJ.secret.token", user="u1")
        logging.getLogger("uvicorn.error").warning("from the stdlib")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    finally:
        configure_logging(load_settings({}))
    assert lines[0]["event"] == "signed in"
    assert lines[0]["token"] == "[redacted]"
    assert lines[0]["level"] == "info"
    assert "timestamp" in lines[0]
    assert lines[1]["event"] == "from the stdlib"
    assert "eyJ.secret.token" not in json.dumps(lines)
