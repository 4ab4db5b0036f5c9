"""Forged, tampered and stale session tokens against the running app: every one is a 401 problem, none a 500.

Each case is a row of literals: how the token is made differs from a valid one only in the named way, and a positive
control (the same recipe with nothing changed) proves the recipe itself is accepted, so no row passes vacuously.
Tokens go in both ways a client can send them: the ``Authorization: Bearer`` header and the session cookie.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.app import create_app
from tests.conftest import TEST_SECRET, make_settings, sign_in

Client = AsyncTestClient[Litestar]
# The development default key is public (it is in the source): literal here, not imported from the code under test.
PUBLIC_DEV_KEY = "development-only-secret-key-never-use-in-production"
PRODUCTION_KEY = "Vq0vbm3Qz0cU1iHc9Wt6k2mJ5rXyP8sL4nDgEaTfRo7"  # random, used only by this file's production app
COOKIE = "et_session"
PROBLEM_JSON = "application/problem+json"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs(signing_input: str, key: str, digest: Any = hashlib.sha256) -> str:
    return b64(hmac.new(key.encode(), signing_input.encode(), digest).digest())


def make_token(user_id: str, case: dict[str, Any]) -> str:
    """A token for ``user_id`` built by hand (so pyjwt's own guards cannot stop a forgery), changed as ``case`` says."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex}
    # Times in a case are offsets from now, so the table stays literal.
    relative = {"exp", "iat", "nbf"}
    claims.update(
        {k: now + v if k in relative and isinstance(v, int) else v for k, v in case.get("claims", {}).items()}
    )
    for name in case.get("drop", ()):
        claims.pop(name)
    header = {"alg": "HS256", "typ": "JWT", **case.get("header", {})}
    encoded_header = b64(case.get("raw_header", json.dumps(header).encode()))
    signing_input = f"{encoded_header}.{b64(case.get('raw_claims', json.dumps(claims).encode()))}"
    sign = case.get("sign", "hs256")
    if sign == "none":
        signature = ""
    elif sign == "rs256":
        signature = b64(RSA_KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))
    elif sign == "es256":
        r, s = decode_dss_signature(EC_KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    elif sign == "hs512":
        signature = hs(signing_input, case.get("key", TEST_SECRET), hashlib.sha512)
    else:
        signature = hs(signing_input, case.get("key", TEST_SECRET))
    token = f"{signing_input}.{signature}"
    if case.get("signature") == "stripped":
        token = f"{signing_input}."
    elif case.get("signature") == "truncated":
        token = token[:-6]
    elif case.get("signature") == "absent":
        token = signing_input
    return token


VALID: dict[str, Any] = {}
ATTACKS: list[tuple[str, dict[str, Any]]] = [
    ("alg none, no signature", {"header": {"alg": "none"}, "sign": "none"}),
    ("alg None (case games)", {"header": {"alg": "None"}, "sign": "none"}),
    ("alg NONE with the real signature", {"header": {"alg": "NONE"}}),
    ("HS256 signed with a wrong key", {"key": "another-secret-key-that-is-long-enough-1234"}),
    ("HS256 signed with an empty key", {"key": ""}),
    ("HS512 with the right key (only HS256 is allowed)", {"header": {"alg": "HS512"}, "sign": "hs512"}),
    ("RS256 header, really RSA-signed", {"header": {"alg": "RS256"}, "sign": "rs256"}),
    ("RS256 header, HMAC with the right key", {"header": {"alg": "RS256"}}),
    ("ES256 header, really EC-signed", {"header": {"alg": "ES256"}, "sign": "es256"}),
    ("HS256 keyed with the RSA public key PEM", {"key": RSA_PUBLIC_PEM}),
    ("RS256 header, HMAC keyed with the public key PEM", {"header": {"alg": "RS256"}, "key": RSA_PUBLIC_PEM}),
    ("signature stripped (trailing dot)", {"signature": "stripped"}),
    ("signature segment absent", {"signature": "absent"}),
    ("signature truncated", {"signature": "truncated"}),
    ("no exp", {"drop": ["exp"]}),
    ("no jti", {"drop": ["jti"]}),
    ("no sub", {"drop": ["sub"]}),
    ("empty sub", {"claims": {"sub": ""}}),
    ("sub not a UUID", {"claims": {"sub": "admin"}}),
    ("sub a number", {"claims": {"sub": 1}}),
    ("sub an unknown user", {"claims": {"sub": "00000000-0000-7000-8000-000000000000"}}),
    ("jti empty", {"claims": {"jti": ""}}),
    ("jti a list", {"claims": {"jti": ["a", "b"]}}),
    ("jti a number", {"claims": {"jti": 7}}),
    ("expired", {"claims": {"exp": -60}}),
    ("exp not a number", {"claims": {"exp": "tomorrow"}}),
    ("not valid yet (nbf in the future)", {"claims": {"nbf": 3600}}),
    ("issued in the future (iat)", {"claims": {"iat": 3600}}),
    ("header not JSON (validly signed)", {"raw_header": b"not json"}),
    ("claims not JSON (validly signed)", {"raw_claims": b"{'sub': 1"}),
    ("claims a JSON list (validly signed)", {"raw_claims": b"[1, 2]"}),
]


@pytest.fixture
async def victim_id(client: Client) -> str:
    session = await sign_in(client)
    user_id: str = (await client.get("/api/me", headers=session.headers)).json()["id"]
    return user_id


async def me(client: Client, token: str, transport: str) -> Any:
    client.cookies.clear()
    if transport == "bearer":
        return await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    client.cookies.set(COOKIE, token)
    try:
        return await client.get("/api/me")
    finally:
        client.cookies.clear()


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 401


TRANSPORTS = ["bearer", "cookie"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_positive_control_the_recipe_itself_is_accepted(client: Client, victim_id: str, transport: str) -> None:
    response = await me(client, make_token(victim_id, VALID), transport)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == victim_id


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("name", "case"), ATTACKS, ids=[name for name, _ in ATTACKS])
async def test_forged_token_is_401(
    client: Client, victim_id: str, transport: str, name: str, case: dict[str, Any]
) -> None:
    assert_refused(await me(client, make_token(victim_id, case), transport))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "token",
    ["garbage", "", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9", "x" * 8000],
    ids=["garbage", "empty", "three-dots-segments", "only-dots", "header-only", "oversized"],
)
async def test_malformed_token_is_401(client: Client, transport: str, token: str) -> None:
    assert_refused(await me(client, token, transport))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_payload_swapped_to_another_user_is_401(client: Client, transport: str) -> None:
    attacker, victim = await sign_in(client), await sign_in(client)
    victim_id = (await client.get("/api/me", headers=victim.headers)).json()["id"]
    header, payload, signature = attacker.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = f"{header}.{b64(json.dumps({**claims, 'sub': victim_id}).encode())}.{signature}"
    assert_refused(await me(client, forged, transport))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_token_revoked_by_logout_is_401(client: Client, transport: str) -> None:
    session = await sign_in(client)
    assert (await me(client, session.token, transport)).status_code == 200
    assert (await client.post("/auth/logout", headers=session.headers)).status_code == 204
    assert_refused(await me(client, session.token, transport))


@pytest.fixture
async def production(database_url: str) -> AsyncIterator[Client]:
    """The same database served by an app in production mode with its own strong key."""
    settings = make_settings(
        database_url,
        APP_ENV="production",
        DEV_LOGIN="false",
        SECRET_KEY=PRODUCTION_KEY,
        PUBLIC_URL="https://expenses.example.com",
        OIDC_DISCOVERY_URL="",  # its discovery would leave loopback at start-up
        OIDC_CLIENT_ID="",
        OIDC_CLIENT_SECRET="",
    )
    async with AsyncTestClient(app=create_app(settings), base_url="https://expenses.example.com") as test_client:
        yield test_client


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_public_dev_key_is_useless_against_production(production: Client, victim_id: str, transport: str) -> None:
    accepted = await me(production, make_token(victim_id, {"key": PRODUCTION_KEY}), transport)
    assert accepted.status_code == 200, accepted.text  # positive control: the production key works
    assert_refused(await me(production, make_token(victim_id, {"key": PUBLIC_DEV_KEY}), transport))
    assert_refused(await me(production, make_token(victim_id, {"key": TEST_SECRET}), transport))
