"""Google and generic OIDC sign-in, with the providers' endpoints stood in by respx (they are external)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from expense_tracker.app import create_app
from expense_tracker.constants import OAUTH_STATE_COOKIE, SESSION_COOKIE
from expense_tracker.db.models import OAuthIdentity, User
from expense_tracker.domain.accounts.oauth import GOOGLE_USERINFO_URL
from expense_tracker.domain.accounts.services import EmailInUseError, UserService
from tests.conftest import OIDC_DISCOVERY, TEST_SECRET, make_settings

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


async def begin(client: Client, provider: str, next_path: str = "/", *, link: bool = False) -> dict[str, str]:
    params = {"next": next_path, **({"link": "true"} if link else {})}
    response = await client.get(f"/auth/{provider}/login", params=params)
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


# --- Identities are matched by (provider, subject) only; linking needs a signed-in session (issue #10) ---------------

PROVIDER_URLS = (f"{IDP}/token", f"{IDP}/userinfo")
EMAIL_TAKEN = "This e-mail already has an account; sign in with the provider you used before, then link this one"


async def oauth_sign_in(
    client: Client, router: respx.MockRouter, provider: str, claims: dict[str, Any], *, link: bool = False
) -> Any:
    """Run the whole login -> callback round trip for ``provider`` returning ``claims``; the callback response."""
    token_url, userinfo_url = (GOOGLE_TOKEN, GOOGLE_USERINFO_URL) if provider == "google" else PROVIDER_URLS
    router.routes.clear()
    router.get(OIDC_DISCOVERY).respond(json=DISCOVERY)
    stand_in_provider(router, token_url, userinfo_url, claims)
    params = await begin(client, provider, link=link)
    return await client.get(f"/auth/{provider}/callback", params={"code": "c", "state": params["state"]})


async def identities_of(database_url: str, provider: str, subject: str) -> list[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(User.email)
                .join(OAuthIdentity, OAuthIdentity.user_id == User.id)
                .where(OAuthIdentity.provider == provider, OAuthIdentity.subject == subject)
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def users_with_email(database_url: str, email: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0)
    finally:
        await engine.dispose()


async def test_new_identity_with_an_existing_email_does_not_take_over_the_account(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    client.cookies.clear()
    victim_email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    victim = await oauth_sign_in(
        client, idp, "google", {"sub": f"g-{victim_email}", "email": victim_email, "email_verified": True}
    )
    assert victim.status_code == 302
    victim_token = client.cookies[SESSION_COOKIE]
    victim_headers = {"Authorization": f"Bearer {victim_token}"}
    secret = await client.post("/api/expenses", json={"title": "private", "amount": "9.99"}, headers=victim_headers)
    assert secret.status_code == 201, secret.text
    client.cookies.clear()

    # The attacker controls an OIDC account that claims (verified!) the victim's address.
    attacker_claims = {"sub": "attacker-subject", "email": victim_email.upper(), "email_verified": True}
    attack = await oauth_sign_in(client, idp, "oidc", attacker_claims)
    assert attack.status_code == 409
    assert attack.headers["content-type"].startswith("application/problem+json")
    assert EMAIL_TAKEN in attack.json()["detail"]
    assert SESSION_COOKIE not in attack.cookies
    assert (await client.get("/api/expenses")).status_code == 401  # nothing of the victim is reachable
    assert await identities_of(database_url, "oidc", "attacker-subject") == []  # and nothing was linked
    assert await users_with_email(database_url, victim_email) == 1  # nor a second account with that e-mail
    again = await oauth_sign_in(client, idp, "oidc", attacker_claims)
    assert again.status_code == 409
    client.cookies.clear()


async def test_browser_sees_the_email_conflict_as_a_page(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    email = f"page-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{email}", "email": email, "email_verified": True})
    client.cookies.clear()
    client.headers["accept"] = "text/html"
    try:
        page = await oauth_sign_in(client, idp, "oidc", {"sub": f"o-{email}", "email": email, "email_verified": True})
    finally:
        del client.headers["accept"]
    assert page.status_code == 409
    assert page.headers["content-type"].startswith("text/html")
    assert "This e-mail already has an account" in page.text
    client.cookies.clear()


async def test_signed_in_user_links_another_provider_then_signs_in_with_it(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    client.cookies.clear()
    email = f"linker-{uuid.uuid4().hex[:8]}@example.com"
    first = await oauth_sign_in(client, idp, "google", {"sub": f"g-{email}", "email": email, "email_verified": True})
    assert first.status_code == 302
    me = (await client.get("/api/me")).json()

    # Signed in and asking to link (Settings → Link): the OIDC identity, even with another e-mail, joins THIS account.
    oidc_claims = {"sub": f"o-{email}", "email": f"work-{email}", "email_verified": True}
    linked = await oauth_sign_in(client, idp, "oidc", oidc_claims, link=True)
    assert linked.status_code == 302, linked.text
    assert await identities_of(database_url, "oidc", f"o-{email}") == [email]
    client.cookies.clear()

    # Later, signed out: the linked provider alone signs in as the same user.
    alone = await oauth_sign_in(client, idp, "oidc", oidc_claims)
    assert alone.status_code == 302
    assert (await client.get("/api/me")).json()["id"] == me["id"]
    client.cookies.clear()


async def test_linking_needs_a_live_session(client: Client, idp: respx.MockRouter, database_url: str) -> None:
    client.cookies.clear()
    email = f"revoked-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{email}", "email": email, "email_verified": True})
    token = client.cookies[SESSION_COOKIE]
    assert (await client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})).status_code == 204
    client.cookies.set(SESSION_COOKIE, token)  # a stolen, already revoked cookie links nothing
    claims = {"sub": f"o-{email}", "email": email, "email_verified": True}
    refused = await oauth_sign_in(client, idp, "oidc", claims, link=True)
    assert refused.status_code == 409
    assert await identities_of(database_url, "oidc", f"o-{email}") == []
    client.cookies.clear()


async def test_a_sign_in_while_signed_in_does_not_link_without_being_asked(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    """A shared browser: A is signed in, B signs in with their own provider account. B must get B's own account,
    and must not become a permanent way into A's."""
    client.cookies.clear()
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{owner}", "email": owner, "email_verified": True})
    owner_id = (await client.get("/api/me")).json()["id"]
    guest = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    signed_in = await oauth_sign_in(client, idp, "oidc", {"sub": f"o-{guest}", "email": guest, "email_verified": True})
    assert signed_in.status_code == 302
    assert await identities_of(database_url, "oidc", f"o-{guest}") == [guest]  # B's own new account, not A's
    assert (await client.get("/api/me")).json()["id"] != owner_id
    client.cookies.clear()


async def test_a_link_started_by_another_account_does_not_link_to_this_one(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    """A state cookie obtained by the attacker's own "Link" (signed, so it cannot be forged) and planted in the
    victim's browser must not attach the attacker's identity to the victim's account."""
    client.cookies.clear()
    attacker = f"attacker-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{attacker}", "email": attacker, "email_verified": True})
    idp.routes.clear()
    idp.get(OIDC_DISCOVERY).respond(json=DISCOVERY)
    planted = await begin(client, "oidc", link=True)  # the attacker's signed state, naming the attacker's account
    state_cookie = client.cookies[OAUTH_STATE_COOKIE]
    client.cookies.clear()

    victim = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{victim}", "email": victim, "email_verified": True})
    client.cookies.set(OAUTH_STATE_COOKIE, state_cookie, path="/auth")
    stand_in_provider(idp, *PROVIDER_URLS, {"sub": f"o-{attacker}", "email": attacker, "email_verified": True})
    callback = await client.get("/auth/oidc/callback", params={"code": "c", "state": planted["state"]})
    assert callback.status_code == 409  # a plain sign-in: the attacker's e-mail is taken, nothing is linked
    assert await identities_of(database_url, "oidc", f"o-{attacker}") == []
    client.cookies.clear()


async def test_identity_of_another_user_signs_in_as_its_owner_not_linked(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    client.cookies.clear()
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    claims = {"sub": f"o-{owner}", "email": owner, "email_verified": True}
    await oauth_sign_in(client, idp, "oidc", claims)
    client.cookies.clear()
    other = f"other-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{other}", "email": other, "email_verified": True})
    switched = await oauth_sign_in(client, idp, "oidc", claims)  # signed in as `other`, proves the owner's identity
    assert switched.status_code == 302
    assert (await client.get("/api/me")).json()["email"] == owner
    assert await identities_of(database_url, "oidc", f"o-{owner}") == [owner]  # never moved to `other`
    client.cookies.clear()


# --- The OAuth state is single-use, even across worker processes (issue #10) -----------------------------------------


async def test_replayed_callback_is_refused_on_another_worker(
    client: Client, idp: respx.MockRouter, database_url: str
) -> None:
    client.cookies.clear()
    email = f"replay-{uuid.uuid4().hex[:8]}@example.com"
    token_requests = stand_in_provider(
        idp, GOOGLE_TOKEN, GOOGLE_USERINFO_URL, {"sub": f"g-{email}", "email": email, "email_verified": True}
    )
    login = await client.get("/auth/google/login")
    state_cookie = login.cookies[OAUTH_STATE_COOKIE]
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    first = await client.get("/auth/google/callback", params={"code": "c", "state": state})
    assert first.status_code == 302
    client.cookies.clear()

    # A second app on the same database stands in for another worker process: nothing is remembered in memory.
    other_worker = create_app(make_settings(database_url))
    async with AsyncTestClient(app=other_worker, base_url="http://testserver.local") as worker:
        worker.follow_redirects = False
        worker.cookies.set(OAUTH_STATE_COOKIE, state_cookie)
        replay = await worker.get("/auth/google/callback", params={"code": "c", "state": state})
    assert replay.status_code == 400
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert SESSION_COOKIE not in replay.cookies
    assert len(token_requests) == 1  # the replayed code never reached the provider


@pytest.mark.parametrize(
    "claims",
    [
        {"p": "google", "s": "the-state", "n": "/", "exp": 300},  # no PKCE verifier: it would go out empty
        {"p": "google", "s": "the-state", "n": "/", "exp": 300, "v": ""},
        {"p": "google", "s": "the-state", "n": "/", "v": "a-verifier-of-sufficient-length"},  # no expiry
    ],
    ids=["no-verifier", "empty-verifier", "no-expiry"],
)
async def test_incomplete_state_cookie_is_refused(
    client: Client, idp: respx.MockRouter, claims: dict[str, Any]
) -> None:
    client.cookies.clear()
    token_requests = stand_in_provider(
        idp,
        GOOGLE_TOKEN,
        GOOGLE_USERINFO_URL,
        {"sub": "g-nopkce", "email": "nopkce@example.com", "email_verified": True},
    )
    # Signed with the real key (as if minted by an older release or a bug): only the named part is missing.
    if "exp" in claims:
        claims = {**claims, "exp": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=claims["exp"])}
    client.cookies.set(OAUTH_STATE_COOKIE, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))
    response = await client.get("/auth/google/callback", params={"code": "c", "state": "the-state"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert token_requests == []  # no exchange
    client.cookies.clear()


async def test_provider_refusing_the_code_is_400_not_502(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    idp.post(GOOGLE_TOKEN).respond(400, json={"error": "invalid_grant", "error_description": "Code was already used"})
    params = await begin(client, "google")
    response = await client.get("/auth/google/callback", params={"code": "used", "state": params["state"]})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "did not accept" in response.json()["detail"]
    assert "already used" not in response.text  # the provider's wording stays in our logs
    client.cookies.clear()


async def test_unreachable_provider_stays_502(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    idp.post(GOOGLE_TOKEN).mock(side_effect=httpx.ConnectError("refused"))
    params = await begin(client, "google")
    response = await client.get("/auth/google/callback", params={"code": "c", "state": params["state"]})
    assert response.status_code == 502
    client.cookies.clear()


async def test_settings_page_offers_to_link_the_other_providers(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    email = f"settings-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{email}", "email": email, "email_verified": True})
    page = await client.get("/settings", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/auth/oidc/login?next=/settings&amp;link=true">Link Keycloak</a>' in page.text
    assert "Google — linked" in page.text
    assert "Link Google" not in page.text
    client.cookies.clear()


async def test_concurrent_first_sign_ins_with_one_email_make_one_account(database_url: str, backend: str) -> None:
    """Two first sign-ins with the same e-mail at once: the second is refused as "in use", not a 500 or a duplicate.

    PostgreSQL only: the second insert must really wait on the first one's uncommitted row (SQLite has no row
    locks). The test waits until the database shows the second transaction blocked, so the race is not timing luck.
    """
    if backend != "postgresql":
        pytest.skip("needs concurrent writers")
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as first, AsyncSession(engine) as second, engine.connect() as monitor:
            await UserService(session=first).sign_in(provider="google", subject=f"g-{email}", email=email, name="")
            racing = asyncio.create_task(
                UserService(session=second).sign_in(provider="oidc", subject=f"o-{email}", email=email, name="")
            )
            for _ in range(500):
                waiting = await monitor.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
                await monitor.rollback()  # a fresh snapshot for the next look
                if waiting or racing.done():
                    break
                await asyncio.sleep(0.01)
            assert not racing.done(), racing  # it got past its e-mail check before the first committed
            await first.commit()
            with pytest.raises(EmailInUseError):
                await racing
    finally:
        await engine.dispose()
    assert await users_with_email(database_url, email) == 1


def failures(metrics_text: str, provider: str, reason: str) -> float:
    prefix = f'expense_tracker_sign_in_failures_total{{provider="{provider}",reason="{reason}"}} '
    values = [float(line.removeprefix(prefix)) for line in metrics_text.splitlines() if line.startswith(prefix)]
    assert len(values) == 1, f"no series for {provider}/{reason}: the dashboards would read 'No data'"
    return values[0]


async def test_new_refusals_are_counted_by_reason(client: Client, idp: respx.MockRouter) -> None:
    client.cookies.clear()
    before = generate_latest().decode()  # the single-worker registry the metrics port serves
    idp.post(GOOGLE_TOKEN).respond(400, json={"error": "invalid_grant"})
    params = await begin(client, "google")
    await client.get("/auth/google/callback", params={"code": "used", "state": params["state"]})
    email = f"counted-{uuid.uuid4().hex[:8]}@example.com"
    await oauth_sign_in(client, idp, "google", {"sub": f"g-{email}", "email": email, "email_verified": True})
    client.cookies.clear()
    await oauth_sign_in(client, idp, "oidc", {"sub": f"o-{email}", "email": email, "email_verified": True})
    after = generate_latest().decode()
    assert failures(after, "google", "provider_refused") == failures(before, "google", "provider_refused") + 1
    assert failures(after, "oidc", "email_in_use") == failures(before, "oidc", "email_in_use") + 1
    client.cookies.clear()
