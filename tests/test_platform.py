"""Health, readiness, metrics, OpenAPI, error handling and request ids."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from prometheus_client import generate_latest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from expense_tracker.app import create_app
from expense_tracker.constants import (
    ACTIVE_USERS_WINDOW,
    JSON_BODY_MAX_BYTES,
    METRIC_ACTIVE_USERS,
    METRIC_BUILD_INFO,
    METRIC_HTTP_REQUESTS,
    REQUEST_ID_HEADER,
)
from expense_tracker.db.models import User
from tests.conftest import TEST_SECRET, Session, make_settings

Client = AsyncTestClient[Litestar]


def scrape() -> str:
    """What the metrics port serves for a single worker: this process's registry (the app no longer serves it)."""
    return generate_latest().decode()


def series(text: str, metric: str) -> set[str]:
    return {line.split(" ")[0] for line in text.splitlines() if line.startswith(metric + "{")}


async def test_liveness_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable() -> None:
    # Port 1 on loopback refuses connections at once: a database that is down.
    app = create_app(
        make_settings(
            "postgresql+asyncpg://postgres@127.0.0.1:1/none",
            OIDC_DISCOVERY_URL="",
            OIDC_CLIENT_ID="",
            OIDC_CLIENT_SECRET="",
        )
    )
    async with AsyncTestClient(app=app) as broken:
        assert (await broken.get("/healthz")).status_code == 200
        response = await broken.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "127.0.0.1" not in response.text


async def test_metrics_use_route_templates_so_series_stay_bounded(client: Client, user: Session) -> None:
    for _ in range(250):
        await client.get(f"/api/expenses/{uuid.uuid4()}", headers=user.headers)
    before = series(scrape(), METRIC_HTTP_REQUESTS)
    for _ in range(250):
        await client.get(f"/api/expenses/{uuid.uuid4()}", headers=user.headers)
    after_text = scrape()
    assert series(after_text, METRIC_HTTP_REQUESTS) == before
    assert any('path="/api/expenses/{expense_id}"' in s and 'status_code="404"' in s for s in before)
    assert not any(re.search(r"/api/expenses/[0-9a-f]{8}-", s) for s in before)
    assert not any('path="/metrics"' in s or 'path="/healthz"' in s for s in series(after_text, METRIC_HTTP_REQUESTS))


async def test_business_and_build_metrics(client: Client) -> None:
    def value(text: str, name: str) -> float:
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    before = scrape()
    session = await client.post("/auth/dev-login", json={"email": f"m-{uuid.uuid4().hex}@example.com"})
    headers = {"Authorization": f"Bearer {session.json()['access_token']}"}
    await client.post("/api/expenses", json={"title": "t", "amount": "1"}, headers=headers)
    await client.post("/api/expenses/import", files={"file": ("a.csv", b"title\n")}, headers=headers)
    client.cookies.clear()
    after = scrape()
    for name, delta in (
        ('expense_tracker_sign_ins_total{provider="dev"}', 1),
        ('expense_tracker_expenses_created_total{source="api"}', 1),
        ('expense_tracker_imports_total{outcome="rejected"}', 1),
        ('expense_tracker_imports_total{outcome="success"}', 0),
    ):
        assert value(after, name) - value(before, name) == delta, name
    assert re.search(rf'^{METRIC_BUILD_INFO}{{commit="unknown",version="[^"]+"}} 1.0$', after, re.MULTILINE)
    assert "expense_tracker_db_pool_connections_in_use" in after
    assert re.search(r"^expense_tracker_db_pool_capacity 10.0$", after, re.MULTILINE)


async def test_openapi_operations_have_ids_tags_and_security(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert "BearerToken" in schema["components"]["securitySchemes"]
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    assert len(operations) >= 20
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids))
    for path, op in operations:
        assert op["tags"], path
        assert op["security"] in ([{}], [{"BearerToken": []}]), path
        if path.startswith(("/api/expenses", "/api/categories", "/api/reports", "/api/me", "/api/settings")):
            assert op["security"] == [{"BearerToken": []}], path
    assert (await client.get("/api/docs")).status_code == 200


async def test_request_id_is_accepted_or_generated(client: Client) -> None:
    given = await client.get("/healthz", headers={REQUEST_ID_HEADER: "abc-123"})
    assert given.headers[REQUEST_ID_HEADER] == "abc-123"
    generated = await client.get("/healthz", headers={REQUEST_ID_HEADER: "bad id with spaces\n"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers[REQUEST_ID_HEADER])


async def test_large_json_body_is_413(client: Client, user: Session) -> None:
    body = b'{"title": "x", "amount": "1", "notes": "' + b"n" * JSON_BODY_MAX_BYTES + b'"}'
    response = await client.post(
        "/api/expenses", content=body, headers={**user.headers, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_malformed_json_is_400(client: Client, user: Session) -> None:
    response = await client.post(
        "/api/expenses", content=b"{not json", headers={**user.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unexpected_errors_leak_nothing(database_url: str) -> None:
    @get("/boom", opt={"public": True}, sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM users -- password=hunter2")

    app = create_app(make_settings(database_url, OIDC_DISCOVERY_URL="", OIDC_CLIENT_ID="", OIDC_CLIENT_SECRET=""))
    app.register(boom)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        response = await test_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "An unexpected error occurred."
    assert "secret" not in response.text
    assert "hunter2" not in response.text


async def test_unknown_route_is_problem_json(client: Client, user: Session) -> None:
    response = await client.get("/api/nope", headers=user.headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_refusals_by_auth_and_csrf_are_counted_with_their_status(client: Client, user: Session) -> None:
    def count(text: str, path: str, status: str) -> float:
        labels = rf'[^}}]*path="{re.escape(path)}"[^}}]*status_code="{status}"[^}}]*'
        pattern = rf"^{METRIC_HTTP_REQUESTS}{{{labels}}} (\S+)$"
        return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))

    before = scrape()
    unauthorised = await client.get("/api/me")
    assert unauthorised.status_code == 401
    assert REQUEST_ID_HEADER in unauthorised.headers
    client.cookies.set("et_session", user.token)
    forged = await client.post("/api/categories", json={"name": "csrf"})
    client.cookies.clear()
    assert forged.status_code == 403
    after = scrape()
    assert count(after, "/api/me", "401") - count(before, "/api/me", "401") == 1
    assert count(after, "/api/categories", "403") - count(before, "/api/categories", "403") == 1


async def test_active_users_are_counted_from_signed_in_requests(client: Client, database_url: str) -> None:
    from expense_tracker.domain.accounts.services import UserService
    from expense_tracker.lib import metrics

    # The test client serves the app on its own thread and loop: read the database through a separate engine.
    engine = create_async_engine(database_url, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def seen(email: str) -> dt.datetime | None:
        async with sessions() as session:
            user = await session.scalar(select(User).where(User.email == email))
            return user.last_seen_at if user else None

    async def active() -> int:
        async with sessions() as session:
            return await UserService(session=session).count_active(ACTIVE_USERS_WINDOW)

    before = await active()
    email = f"active-{uuid.uuid4().hex}@example.com"
    token = (await client.post("/auth/dev-login", json={"email": email})).json()["access_token"]
    client.cookies.clear()
    assert await seen(email) is None  # signing in is not yet activity; a signed-in request is
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    first = await seen(email)
    assert first is not None
    assert await active() == before + 1
    # Within LAST_SEEN_RESOLUTION a request costs no write.
    await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert await seen(email) == first

    refresh = asyncio.create_task(metrics.refresh_active_users(active, lambda exc: None))
    await asyncio.sleep(0.1)
    await metrics.stop(refresh)
    await engine.dispose()
    text = scrape()
    assert re.search(rf"^{METRIC_ACTIVE_USERS} {float(before + 1)}$", text, re.MULTILINE)


async def test_a_failing_session_lookup_is_a_counted_500_problem(
    client: Client, user: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expense_tracker.domain.accounts.services import UserService

    async def broken(*args: object) -> None:
        # A bug, not an outage (an unreachable database is a 503: tests/test_db_errors.py).
        raise RuntimeError("session lookup broke")

    def count(text: str) -> float:
        pattern = rf'^{METRIC_HTTP_REQUESTS}{{[^}}]*path="/api/me"[^}}]*status_code="500"[^}}]*}} (\S+)$'
        return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))

    before = scrape()
    monkeypatch.setattr(UserService, "get_active", broken)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {user.token}"})
    monkeypatch.undo()
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "broke" not in response.text
    after = scrape()
    assert count(after) - count(before) == 1


class Recorder(logging.Handler):
    """Keeps the structlog event dicts of the access log (the session's app writes to a stream captured elsewhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "expense_tracker.access" and isinstance(record.msg, dict):
            self.events.append(record.msg)


async def test_unrouted_requests_are_logged_and_counted_under_one_bounded_label(client: Client) -> None:
    def count(text: str, method: str, status: str) -> float:
        labels = rf'[^}}]*method="{method}"[^}}]*path="<unrouted>"[^}}]*status_code="{status}"[^}}]*'
        return sum(float(v) for v in re.findall(rf"^{METRIC_HTTP_REQUESTS}{{{labels}}} (\S+)$", text, re.MULTILINE))

    before = scrape()
    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    for i in range(30):  # 30 different raw paths ...
        missing = await client.get(f"/no-such-page-{i}", headers={REQUEST_ID_HEADER: f"unrouted-{i}"})
        assert missing.status_code == 404
        assert missing.headers[REQUEST_ID_HEADER] == f"unrouted-{i}"
    wrong_method = await client.put("/login")
    assert wrong_method.status_code == 405
    logging.getLogger().removeHandler(recorder)
    after = scrape()
    # ... one series, counted, and never the raw path as a label value.
    assert count(after, "GET", "404") - count(before, "GET", "404") == 30
    assert count(after, "PUT", "405") - count(before, "PUT", "405") == 1
    assert "no-such-page" not in "".join(series(after, METRIC_HTTP_REQUESTS))
    logged = {event["request_id"]: event for event in recorder.events}
    assert logged["unrouted-29"]["path"] == "/no-such-page-29"
    assert logged["unrouted-29"]["route"] == "<unrouted>"
    assert logged["unrouted-29"]["status"] == 404
    assert [e["status"] for e in recorder.events if e["method"] == "PUT"] == [405]


async def test_metrics_are_not_served_on_the_public_port(client: Client) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_production_serves_the_schema_but_not_the_cdn_docs_page(database_url: str) -> None:
    settings = make_settings(
        database_url,
        APP_ENV="production",
        PUBLIC_URL="https://expenses.example.com",
        DEV_LOGIN="false",
        OIDC_DISCOVERY_URL="",
        OIDC_CLIENT_ID="",
        OIDC_CLIENT_SECRET="",
    )
    async with AsyncTestClient(app=create_app(settings), base_url="https://expenses.example.com") as production:
        assert (await production.get("/api/openapi.json")).status_code == 200
        docs = await production.get("/api/docs")
        assert docs.status_code == 404
        assert "cdn" not in docs.text.lower()
        csp = docs.headers["content-security-policy"]
        assert "script-src 'self';" in csp  # no exemption for the docs path in production


FAILING_INSERT = """
import sys
from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from expense_tracker.app import create_app


@post("/failing-insert", opt={"public": True}, status_code=201)
async def failing_insert(db_session: NamedDependency[AsyncSession], data: JSONBody[dict[str, str]]) -> None:
    # The value comes from the request, as a user's title would (a traceback shows this source line).
    await db_session.execute(text("INSERT INTO no_such_table (title) VALUES (:title)"), data)


app = create_app()
app.register(failing_insert)
with TestClient(app=app, base_url="https://expenses.example.com") as client:
    # A Bearer header (any) skips the CSRF check, as for API clients; the route itself is public.
    response = client.post("/failing-insert", json={"title": sys.argv[1]}, headers={"Authorization": "Bearer x"})
assert response.status_code == 500, response.text
"""


def test_production_error_logs_leave_out_bound_parameters(database_url: str, tmp_path: Path) -> None:
    # A fresh process: logging is configured once per process, exactly as in production.
    script = tmp_path / "failing_insert.py"
    script.write_text(FAILING_INSERT)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_URL": "https://expenses.example.com",
    }
    result = subprocess.run(
        [sys.executable, str(script), "Dinner with my therapist"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no_such_table" in result.stderr  # the statement is logged, so the error can be diagnosed ...
    assert "Dinner with my therapist" not in result.stderr  # ... but not the user's data bound into it
