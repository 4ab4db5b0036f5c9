"""Sessions: dev login, JWT validation (tampered, expired, alg none, wrong key, revoked, deactivated), CSRF."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from expense_tracker.app import create_app
from expense_tracker.constants import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from expense_tracker.db.models import User
from tests.conftest import TEST_SECRET, Session, make_settings, sign_in

Client = AsyncTestClient[Litestar]


async def me_status(client: Client, token: str) -> int:
    return (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_dev_login_returns_token_and_http_only_cookie(client: Client) -> None:
    response = await client.post("/auth/dev-login", json={"email": "Dev.Person@Example.com", "name": "Dev"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 720 * 60
    set_cookie = response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "secure" not in set_cookie  # development over http
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert {"exp", "jti", "sub"} <= claims.keys()
    me = await client.get("/api/me")  # the cookie alone authenticates a browser
    client.cookies.clear()
    assert me.status_code == 200
    assert me.json()["email"] == "dev.person@example.com"
    assert me.json()["name"] == "Dev"


async def test_same_email_signs_in_to_the_same_user(client: Client) -> None:
    first = await sign_in(client, "same@example.com")
    second = await sign_in(client, "same@example.com")
    a = (await client.get("/api/me", headers=first.headers)).json()
    b = (await client.get("/api/me", headers=second.headers)).json()
    assert a["id"] == b["id"]
    categories = (await client.get("/api/categories", headers=first.headers)).json()
    assert sorted(c["name"] for c in categories) == sorted(
        ["Food", "Transport", "Housing", "Utilities", "Health", "Entertainment", "Shopping", "Other"]
    )


@pytest.mark.parametrize("body", [{"email": "not-an-email"}, {"name": "x"}, {"email": "a@b.c", "admin": True}])
async def test_dev_login_validates_its_body(client: Client, body: dict[str, object]) -> None:
    response = await client.post("/auth/dev-login", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def forge(sub: str, key: str = TEST_SECRET, algorithm: str = "HS256", **claims: object) -> str:
    now = dt.datetime.now(dt.UTC)
    payload = {"sub": sub, "iat": now, "exp": now + dt.timedelta(hours=1), "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(payload, key, algorithm=algorithm)


async def test_rejected_tokens(client: Client, user: Session) -> None:
    user_id = (await client.get("/api/me", headers=user.headers)).json()["id"]
    assert await me_status(client, forge(user_id)) == 200  # the forge itself is right, so the cases below mean it

    header, payload, signature = user.token.split(".")
    tampered = f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    expired = forge(user_id, exp=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    unsigned = jwt.encode({"sub": user_id, "exp": 4102444800, "jti": "x"}, None, algorithm="none")  # type: ignore[arg-type]
    wrong_key = forge(user_id, key="another-secret-key-that-is-long-enough!!")
    unknown_user = forge(str(uuid.uuid4()))
    no_jti = jwt.encode({"sub": user_id, "exp": 4102444800}, TEST_SECRET, algorithm="HS256")
    for token in (tampered, expired, unsigned, wrong_key, unknown_user, no_jti, "garbage"):
        assert await me_status(client, token) == 401, token


async def test_logout_revokes_the_token_server_side(client: Client) -> None:
    session = await sign_in(client)
    other = await sign_in(client, session.email)  # a second session of the same user stays valid
    response = await client.post("/auth/logout", headers=session.headers)
    assert response.status_code == 204
    assert (
        f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
        or "max-age=0" in response.headers["set-cookie"].lower()
    )
    assert await me_status(client, session.token) == 401
    assert (await client.post("/auth/logout", headers=session.headers)).status_code == 401
    assert await me_status(client, other.token) == 200


async def test_deactivated_user_gets_401(database_url: str) -> None:
    # Deactivated straight in the database, i.e. by something other than this process: with SESSION_CACHE_SECONDS=0
    # the very next request is refused. (With the default bound it is refused within the bound:
    # tests/test_session_cache.py.)
    async with AsyncTestClient(app=create_app(make_settings(database_url, SESSION_CACHE_SECONDS="0"))) as client:
        session = await sign_in(client)
        assert await me_status(client, session.token) == 200
        engine = create_async_engine(database_url)
        async with engine.begin() as connection:
            await connection.execute(update(User).where(User.email == session.email).values(is_active=False))
        await engine.dispose()
        assert await me_status(client, session.token) == 401
        again = await client.post("/auth/dev-login", json={"email": session.email})
        assert again.status_code == 403
        assert again.json()["detail"] == "This account is deactivated."


async def test_csrf_required_for_cookie_sessions_not_bearer(client: Client) -> None:
    session = await sign_in(client)
    client.cookies.set(SESSION_COOKIE, session.token)
    await client.get("/api/me")  # a safe request hands out the CSRF cookie
    csrf = client.cookies.get(CSRF_COOKIE)
    assert csrf
    refused = await client.post("/api/expenses", json={"title": "x", "amount": "1"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    accepted = await client.post("/api/expenses", json={"title": "x", "amount": "1"}, headers={CSRF_HEADER: csrf})
    assert accepted.status_code == 201
    client.cookies.clear()
    bearer = await client.post("/api/expenses", json={"title": "y", "amount": "1"}, headers=session.headers)
    assert bearer.status_code == 201


async def test_production_has_no_dev_login(database_url: str) -> None:
    settings = make_settings(
        database_url,
        APP_ENV="production",
        DEV_LOGIN="false",
        PUBLIC_URL="https://expenses.example.com",
        # No OIDC here: its discovery would leave loopback at start-up.
        OIDC_DISCOVERY_URL="",
        OIDC_CLIENT_ID="",
        OIDC_CLIENT_SECRET="",
    )
    app = create_app(settings)
    async with AsyncTestClient(app=app) as production:
        response = await production.post("/auth/dev-login", json={"email": "a@example.com"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_logout_is_documented_as_204_without_content(client: Client) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    responses = spec["paths"]["/auth/logout"]["post"]["responses"]
    assert set(responses) >= {"204"}
    assert "content" not in responses["204"] or not responses["204"]["content"]
    session = await sign_in(client)
    response = await client.post("/auth/logout", headers=session.headers)
    assert response.status_code == 204
    assert response.content == b""  # what the schema promises: nothing follows


async def test_html_logout_revokes_the_session_and_clears_the_cookie(client: Client) -> None:
    session = await sign_in(client)
    client.cookies.set(SESSION_COOKIE, session.token)
    await client.get("/api/me")  # a safe request hands out the CSRF cookie the form carries
    csrf = client.cookies.get(CSRF_COOKIE)
    assert csrf
    response = await client.post(
        "/logout", data={"_csrf_token": csrf}, headers={CSRF_HEADER: csrf, "accept": "text/html"}
    )
    client.cookies.clear()
    assert response.status_code == 303
    assert response.headers["location"] == "/login?msg=signed-out"
    assert response.content == b""
    set_cookie = response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in set_cookie
    assert "max-age=0" in set_cookie
    assert await me_status(client, session.token) == 401


async def test_two_logouts_of_one_token_at_once_both_succeed(database_url: str, backend: str) -> None:
    """A double-clicked logout: the second revocation waits on the first's uncommitted row, then finds it done."""
    if backend != "postgresql":
        pytest.skip("needs concurrent writers")
    from sqlalchemy.ext.asyncio import AsyncSession

    from expense_tracker.domain.accounts.services import UserService

    engine = create_async_engine(database_url)
    jti, expires = uuid.uuid4().hex, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    try:
        async with AsyncSession(engine) as first, AsyncSession(engine) as second:
            await UserService(session=first).revoke(jti, expires)  # not committed yet
            racing = asyncio.create_task(UserService(session=second).revoke(jti, expires))
            await asyncio.sleep(0.3)  # the second insert is now waiting on the first's row
            await first.commit()
            await racing  # no IntegrityError (a 409 to the user before)
            await second.commit()
    finally:
        await engine.dispose()
