"""Security headers and cookie attributes on every kind of response, in development and production.

The expected values are written out here as literals, on purpose: a test that imported them from the code would pass
whatever the code said.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import make_settings

Client = AsyncTestClient[Litestar]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
EVERY_RESPONSE = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=63072000; includeSubDomains"
PRODUCTION_URL = "https://expenses.example.com"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"


def app_for(database_url: str, mode: str) -> Litestar:
    from expense_tracker.app import create_app

    overrides = {"OIDC_DISCOVERY_URL": "", "OIDC_CLIENT_ID": "", "OIDC_CLIENT_SECRET": ""}
    if mode == "production":
        overrides |= {"APP_ENV": "production", "PUBLIC_URL": PRODUCTION_URL, "DEV_LOGIN": "false"}
    return create_app(make_settings(database_url, **overrides))


@pytest.fixture(scope="module")
async def sqlite_url(database_factory: Any) -> str:
    url: str = await database_factory("sqlite")
    return url


@pytest.fixture(params=["development", "production"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def client(sqlite_url: str, mode: str) -> AsyncIterator[Client]:
    # Production cookies are Secure: the client only sends them back over https.
    base = PRODUCTION_URL if mode == "production" else "http://testserver.local"
    async with AsyncTestClient(app=app_for(sqlite_url, mode), base_url=base) as test_client:
        test_client.follow_redirects = False
        yield test_client


def set_cookies(response: Response) -> dict[str, dict[str, str | bool]]:
    """Each ``Set-Cookie`` header as ``{name: {attribute: value}}``, attribute names lower-cased."""
    parsed: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        attributes: dict[str, str | bool] = {}
        for part in rest.split(";")[1:]:
            key, sep, value = part.strip().partition("=")
            attributes[key.lower()] = value if sep else True
        parsed[name] = attributes
    return parsed


async def sign_in_with_cookie(client: Client, mode: str) -> Response:
    """A browser session through the real sign-in of each mode: the dev login, or Google (stood in by respx)."""
    email = (
        f"headers-{uuid.uuid4().hex[:8]}@example.com"  # a fresh account: an e-mail is never matched across providers
    )
    if mode == "development":
        return await client.post("/auth/dev-login", json={"email": email, "name": "H"})
    with respx.mock(assert_all_mocked=True) as google:
        google.post(GOOGLE_TOKEN).respond(json={"access_token": "provider-token", "token_type": "Bearer"})
        google.get(GOOGLE_USERINFO).respond(
            json={"sub": f"g-{email}", "email": email, "email_verified": True, "name": "H"}
        )
        login = await client.get("/auth/google/login", params={"next": "/"})
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        return await client.get("/auth/google/callback", params={"code": "c", "state": state})


def assert_security_headers(response: Response, mode: str, cache: str = "no-store") -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (name, response.status_code, response.url)
    if mode == "production":
        assert response.headers.get("strict-transport-security") == HSTS
    else:
        assert "strict-transport-security" not in response.headers  # http://localhost must stay usable
    assert response.headers.get("cache-control") == cache, response.url
    assert response.headers.get("x-request-id")


async def test_headers_on_pages_api_and_errors(client: Client, mode: str) -> None:
    page = await client.get("/login", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    unauthorised = await client.get("/api/me")
    assert unauthorised.status_code == 401
    unrouted = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert unrouted.status_code == 404
    wrong_method = await client.delete("/healthz")
    assert wrong_method.status_code == 405
    for response in (page, unauthorised, unrouted, wrong_method):
        assert_security_headers(response, mode)


async def test_authenticated_responses_are_not_stored_and_assets_are_cached(client: Client, mode: str) -> None:
    signed_in = await sign_in_with_cookie(client, mode)
    assert signed_in.status_code in {200, 302}, signed_in.text
    assert_security_headers(signed_in, mode)
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert_security_headers(me, mode)
    dashboard = await client.get("/", headers={"accept": "text/html"})
    assert dashboard.status_code == 200
    assert_security_headers(dashboard, mode)
    asset = await client.get("/static/app.css")
    assert asset.status_code == 200
    assert_security_headers(asset, mode, cache="max-age=31536000, public, immutable")


async def test_cookie_attributes(client: Client, mode: str) -> None:
    secure = mode == "production"
    if mode == "production":
        login = await client.get("/auth/google/login", params={"next": "/"})
        state = set_cookies(login)["et_oauth"]
        assert state["path"] == "/auth"
        assert state["httponly"] is True
        assert state["samesite"].lower() == "lax"  # type: ignore[union-attr]
        assert state.get("secure", False) is secure
    signed_in = await sign_in_with_cookie(client, mode)
    session = set_cookies(signed_in)["et_session"]
    assert session["path"] == "/"
    assert session["httponly"] is True
    assert session["samesite"].lower() == "lax"  # type: ignore[union-attr]
    assert session.get("secure", False) is secure

    client.cookies.delete("et_csrftoken")
    page = await client.get("/", headers={"accept": "text/html"})  # a safe request hands out the CSRF cookie
    csrf = set_cookies(page)["et_csrftoken"]
    assert csrf["path"] == "/"
    assert csrf["samesite"].lower() == "lax"  # type: ignore[union-attr]
    assert csrf.get("secure", False) is secure


async def test_cookie_session_logout_needs_the_csrf_token(client: Client, mode: str) -> None:
    await sign_in_with_cookie(client, mode)
    await client.get("/api/me")  # a safe request hands out the CSRF cookie
    token = client.cookies.get("et_csrftoken")
    assert token
    forged = await client.post("/auth/logout")
    assert forged.status_code == 403
    assert_security_headers(forged, mode)
    assert (await client.get("/api/me")).status_code == 200  # the forged request changed nothing
    logged_out = await client.post("/auth/logout", headers={"x-csrftoken": token})
    assert logged_out.status_code == 204
    assert_security_headers(logged_out, mode)
