"""Google and generic OIDC sign-in, with the providers' endpoints stood in by respx (they are external)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import OAUTH_STATE_COOKIE, SESSION_COOKIE
from expense_tracker.domain.accounts.oauth import GOOGLE_USERINFO_URL
from tests.conftest import OIDC_DISCOVERY

Client = AsyncTestClient[Litestar]
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
IDP = "https://idp.test.invalid/realms/test/protocol/openid-connect"
DISCOVERY = {
    "issuer": "https://idp.test.invalid/realms/test",
    "authorization_endpoint": f"{IDP}/auth",
    "token_endpoint": f"{IDP}/token",
    "userinfo_endpoint": f"{IDP}/userinfo",
    "jwks_uri": f"{IDP}/certs",
}


@pytest.fixture
def idp() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(OIDC_DISCOVERY).respond(json=DISCOVERY)
        yield router


def stand_in_provider(
    router: respx.MockRouter, token_url: str, userinfo_url: str, claims: dict[str, Any]
) -> list[httpx.Request]:
    token_requests: list[httpx.Request] = []

    def token(request: httpx.Request) -> httpx.Response:
        token_requests.append(request)
        return httpx.Response(200, json={"access_token": "provider-access-token", "token_type": "Bearer"})

    def userinfo(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer provider-access-token"
        return httpx.Response(200, json=claims)

    router.post(token_url).mock(side_effect=token)
    router.get(userinfo_url).mock(side_effect=userinfo)
    return token_requests


async def begin(client: Client, provider: str, next_path: str = "/") -> dict[str, str]:
    response = await client.get(f"/auth/{provider}/login", params={"next": next_path})
    assert response.status_code == 302
    assert OAUTH_STATE_COOKIE in response.cookies
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


@pytest.mark.parametrize(
    ("provider", "authorize", "token_url", "userinfo_url"),
    [
        ("google", "https://accounts.google.com/o/oauth2/v2/auth", GOOGLE_TOKEN, GOOGLE_USERINFO_URL),
        ("oidc", f"{IDP}/auth", f"{IDP}/token", f"{IDP}/userinfo"),
    ],
)
async def test_full_sign_in_flow_with_pkce(
    client: Client, idp: respx.MockRouter, provider: str, authorize: str, token_url: str, userinfo_url: str
) -> None:
    client.cookies.clear()
    claims = {"sub": f"{provider}-42", "email": f"Person.{provider}@Example.com", "email_verified": True, "name": "P"}
    token_requests = stand_in_provider(idp, token_url, userinfo_url, claims)
    login = await client.get(f"/auth/{provider}/login", params={"next": "/reports?month=2024-01"})
    location = login.headers["location"]
    assert location.startswith(authorize)
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["redirect_uri"] == f"http://testserver.local/auth/{provider}/callback"
    assert params["code_challenge_method"] == "S256"
    assert {"openid", "email", "profile"} <= set(params["scope"].split())

    callback = await client.get(f"/auth/{provider}/callback", params={"code": "the-code", "state": params["state"]})
    assert callback.status_code == 302, callback.text
    assert callback.headers["location"] == "/reports?month=2024-01"
    assert SESSION_COOKIE in callback.cookies

    sent = parse_qs(token_requests[0].content.decode())
    assert sent["code"] == ["the-code"]
    verifier = sent["code_verifier"][0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == params["code_challenge"]

    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["email"] == f"person.{provider}@example.com"
    client.cookies.clear()


async def test_bad_or_missing_state_is_400(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    claims = {"sub": "g-1", "email": "a@example.com", "email_verified": True}
    token_requests = stand_in_provider(idp, GOOGLE_TOKEN, GOOGLE_USERINFO_URL, claims)
    await begin(client, "google")
    wrong = await client.get("/auth/google/callback", params={"code": "c", "state": "forged"})
    assert wrong.status_code == 400
    assert wrong.headers["content-type"].startswith("application/problem+json")
    missing = await client.get("/auth/google/callback", params={"code": "c"})
    assert missing.status_code == 400
    client.cookies.clear()
    no_cookie = await client.get("/auth/google/callback", params={"code": "c", "state": "anything"})
    assert no_cookie.status_code == 400
    assert token_requests == []  # the code is never exchanged without a matching state


async def test_state_from_another_provider_is_refused(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    params = await begin(client, "google")
    response = await client.get("/auth/oidc/callback", params={"code": "c", "state": params["state"]})
    assert response.status_code == 400
    client.cookies.clear()


async def test_unverified_email_is_refused(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    claims = {"sub": "g-unverified", "email": "unverified@example.com", "email_verified": False}
    stand_in_provider(idp, GOOGLE_TOKEN, GOOGLE_USERINFO_URL, claims)
    params = await begin(client, "google")
    response = await client.get("/auth/google/callback", params={"code": "c", "state": params["state"]})
    assert response.status_code == 403
    assert "verified" in response.json()["detail"]
    assert SESSION_COOKIE not in response.cookies
    dev = await client.post("/auth/dev-login", json={"email": "unverified@example.com"})
    me = (await client.get("/api/me", headers={"Authorization": f"Bearer {dev.json()['access_token']}"})).json()
    assert me["name"] == "unverified"  # created just now by dev login: the refused sign-in stored nothing
    client.cookies.clear()


async def test_provider_failure_is_502_without_details(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    idp.post(GOOGLE_TOKEN).respond(500, text="internal provider stack trace")
    params = await begin(client, "google")
    response = await client.get("/auth/google/callback", params={"code": "c", "state": params["state"]})
    assert response.status_code == 502
    assert "stack trace" not in response.text
    client.cookies.clear()


async def test_cancelled_at_provider_is_400(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    params = await begin(client, "google")
    response = await client.get("/auth/google/callback", params={"error": "access_denied", "state": params["state"]})
    assert response.status_code == 400
    assert "cancelled" in response.json()["detail"]
    client.cookies.clear()


async def test_open_redirects_are_neutralised(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    claims = {"sub": "g-redirect", "email": "redirect@example.com", "email_verified": True}
    stand_in_provider(idp, GOOGLE_TOKEN, GOOGLE_USERINFO_URL, claims)
    params = await begin(client, "google", next_path="//evil.example/steal")
    response = await client.get("/auth/google/callback", params={"code": "c", "state": params["state"]})
    assert response.headers["location"] == "/"
    client.cookies.clear()


async def test_unknown_provider_is_404(client: Client) -> None:
    assert (await client.get("/auth/github/login")).status_code == 404
