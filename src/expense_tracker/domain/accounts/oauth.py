"""Sign-in with Google and with any OpenID Connect provider (authorization code flow, ``state`` + PKCE S256).

Clients are built once (``IdentityProviders.start``); the OIDC client fetches its discovery document then. If the
provider is unreachable at start-up, the first sign-in attempt tries again instead of the app refusing to boot.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from httpx_oauth.clients.google import GoogleOAuth2
from httpx_oauth.clients.openid import OpenID
from httpx_oauth.oauth2 import BaseOAuth2, GetAccessTokenError

from expense_tracker.settings import Settings

GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
SCOPES = ["openid", "email", "profile"]


class SignInError(Exception):
    """Sign-in could not complete; ``reason`` is a short, bounded code (also a metric label, one of
    ``metrics.SIGN_IN_FAILURE_REASONS``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class VerifiedIdentity:
    subject: str
    email: str
    name: str


@dataclass
class IdentityProvider:
    key: str
    label: str
    client: BaseOAuth2[Any]
    userinfo_url: str


def _provider_error() -> SignInError:
    """The provider failed or is unreachable: a 502, with its details kept out of the response."""
    return SignInError("provider_error", "The sign-in provider did not confirm the sign-in.")


def _oauth_error(response: httpx.Response | None) -> str:
    """The ``error`` code of an OAuth error response, or ``""`` when there is none to read."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class IdentityProviders:
    """The configured providers, keyed by the path segment used in ``/auth/<key>/...``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._providers: dict[str, IdentityProvider] = {}
        self._lock = asyncio.Lock()
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0))

    @property
    def labels(self) -> dict[str, str]:
        """Providers offered on the sign-in page (configured ones, even if discovery is still pending)."""
        labels = {}
        if self._settings.google:
            labels["google"] = "Google"
        if self._settings.oidc:
            labels["oidc"] = self._settings.oidc.provider_name
        return labels

    async def start(self) -> None:
        for key in self.labels:
            try:
                await self.get(key)
            except SignInError:
                continue  # logged by get(); retried on first use

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, key: str) -> IdentityProvider | None:
        if key not in self.labels:
            return None
        if key in self._providers:
            return self._providers[key]
        async with self._lock:
            if key not in self._providers:
                self._providers[key] = await self._build(key)
        return self._providers[key]

    async def _build(self, key: str) -> IdentityProvider:
        google, oidc = self._settings.google, self._settings.oidc
        if key == "google" and google:
            client = GoogleOAuth2(google.client_id, google.client_secret, scopes=SCOPES)
            return IdentityProvider("google", "Google", client, GOOGLE_USERINFO_URL)
        assert oidc is not None
        try:
            # httpx-oauth fetches the discovery document synchronously in the constructor: keep it off the loop.
            openid = await asyncio.to_thread(
                partial(OpenID, oidc.client_id, oidc.client_secret, oidc.discovery_url, base_scopes=SCOPES)
            )
        except Exception as exc:
            import structlog

            structlog.get_logger(__name__).error("oidc discovery failed", error_type=type(exc).__name__)
            raise SignInError("provider_unavailable", "The sign-in provider is unavailable.") from None
        userinfo = openid.openid_configuration.get("userinfo_endpoint")
        if not userinfo:
            raise SignInError("provider_unavailable", "The sign-in provider has no userinfo endpoint.")
        return IdentityProvider("oidc", oidc.provider_name, openid, userinfo)

    def redirect_uri(self, key: str) -> str:
        return self._settings.absolute_url(f"/auth/{key}/callback")

    async def authorization_url(self, provider: IdentityProvider, state: str, challenge: str) -> str:
        url: str = await provider.client.get_authorization_url(
            self.redirect_uri(provider.key),
            state=state,
            scope=SCOPES,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        return url

    async def exchange(self, provider: IdentityProvider, code: str, verifier: str) -> VerifiedIdentity:
        """Trade the code (with the PKCE verifier) for a token, then read and check the user's claims."""
        try:
            token = await provider.client.get_access_token(code, self.redirect_uri(provider.key), verifier)
        except GetAccessTokenError as exc:
            if _oauth_error(exc.response) == "invalid_grant":
                # RFC 6749 5.2: the code (or its PKCE verifier) is invalid, expired or already used. That is the
                # browser's attempt failing, not the provider: starting again fixes it, so it is no 502.
                raise SignInError(
                    "provider_refused",
                    "The sign-in provider did not accept this sign-in (it may have expired); start again.",
                ) from None
            raise _provider_error() from None
        except Exception:
            raise _provider_error() from None
        try:
            response = await self.http.get(
                provider.userinfo_url, headers={"Authorization": f"Bearer {token['access_token']}"}
            )
            response.raise_for_status()
            claims: dict[str, Any] = response.json()
        except Exception:
            raise _provider_error() from None
        subject, email = str(claims.get("sub") or ""), str(claims.get("email") or "")
        if not subject or "@" not in email:
            raise SignInError("missing_claims", "The sign-in provider did not share an email address.")
        if claims.get("email_verified") not in (True, "true"):  # some IdPs send a string
            raise SignInError("unverified_email", "Your email address is not verified with the sign-in provider.")
        return VerifiedIdentity(subject=subject, email=email, name=str(claims.get("name") or ""))
