"""Session tokens: JWTs we issue (pyjwt via Litestar), from the session cookie or an `Authorization: Bearer` header."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import JWTCookieAuth, Token

from expense_tracker.constants import (
    API_DOCS_PATH,
    CSRF_COOKIE,
    HEALTH_LIVE_PATH,
    HEALTH_READY_PATH,
    METRICS_PATH,
    OPENAPI_PATH,
    SESSION_COOKIE,
)
from expense_tracker.db.models import User
from expense_tracker.domain.accounts.session_cache import SessionCache
from expense_tracker.settings import Settings

if TYPE_CHECKING:
    from expense_tracker.domain.accounts.services import UserService

SECURITY_SCHEME = "BearerToken"
SESSION_SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
"""OpenAPI requirement for signed-in operations; public ones declare ``[{}]`` (anonymous)."""
PUBLIC_OPT_KEY = "public"
"""Handlers with ``opt={"public": True}`` need no session (sign-in pages, health, metrics)."""


async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The session's user: from this process's :class:`SessionCache` when the token was checked within
    ``SESSION_CACHE_SECONDS``, else from the database (one query), which then refreshes the cache."""
    from expense_tracker.domain.accounts.services import UserService

    state = connection.app.state
    cache: SessionCache = state.session_cache
    user_id, jti = _claims(token)
    if user_id is None or jti is None:
        return None
    if (cached := cache.get(jti, user_id)) is not None:
        # Checked within the bound: no query, unless the throttled last-seen write is due (one per user per
        # LAST_SEEN_RESOLUTION, on the request's own session as before).
        if (seen_at := UserService.last_seen_due(cached)) is not None:
            users = UserService(session=state.alchemy.provide_session(state, connection.scope))
            await users.mark_seen(cached.id, seen_at)
            cache.seen(jti, seen_at)
        return cached
    users = UserService(session=state.alchemy.provide_session(state, connection.scope))
    user = await users.get_active(user_id, jti)
    if user is not None:
        cache.put(jti, user)
    return user


def _claims(token: Token) -> tuple[uuid.UUID | None, str | None]:
    try:
        user_id = uuid.UUID(token.sub)
    except ValueError:
        return None, None
    if not isinstance(token.jti, str) or not token.jti:
        return user_id, None
    return user_id, token.jti


async def _token_user(token: Token, users: UserService) -> User | None:
    user_id, jti = _claims(token)
    if user_id is None or jti is None:
        return None
    return await users.get_active(user_id, jti)


async def session_user(connection: ASGIConnection[Any, Any, Any, Any], users: UserService) -> User | None:
    """The user of the browser's live session cookie on a public route (where the auth middleware does not run), or
    ``None`` when there is none or it is invalid, expired, revoked or deactivated: the same checks as the middleware."""
    auth: JWTCookieAuth[User, Token] = connection.app.state.jwt_auth
    encoded = connection.cookies.get(auth.key, "")
    if not encoded:
        return None
    try:
        token = auth.token_cls.decode(encoded, auth.token_secret, auth.algorithm, require_claims=auth.require_claims)
    except NotAuthorizedException:
        return None
    return await _token_user(token, users)


CLEAR_SESSION_COOKIE = Cookie(
    key=SESSION_COOKIE,
    value="",
    path="/",
    max_age=0,
    httponly=True,
    samesite="lax",
    description="The session cookie, cleared.",
)


def safe_next(target: str | None) -> str:
    """Only same-site absolute paths: ``//evil.example`` and ``https://...`` become ``/`` (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def issue_session(state: State, user: User) -> tuple[str, Cookie]:
    """A new session token for ``user`` and the cookie carrying it; the ``jti`` makes it individually revocable."""
    auth: JWTCookieAuth[User, Token] = state.jwt_auth
    token = auth.create_token(identifier=str(user.id), token_unique_jwt_id=uuid.uuid4().hex)
    cookie = Cookie(
        key=auth.key,
        value=token,
        path="/",
        httponly=True,
        secure=auth.secure,
        samesite=auth.samesite,
        max_age=int(auth.default_token_expiration.total_seconds()),
    )
    return token, cookie


def build_jwt_auth(settings: Settings) -> JWTCookieAuth[User, Token]:
    return JWTCookieAuth[User, Token](
        retrieve_user_handler=retrieve_user,
        token_secret=settings.secret_key,
        algorithm="HS256",
        key=SESSION_COOKIE,
        secure=settings.is_production,
        samesite="lax",
        default_token_expiration=dt.timedelta(minutes=settings.session_ttl_minutes),
        require_claims=["exp", "jti", "sub"],
        exclude=[f"^{p}$" for p in (HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH, OPENAPI_PATH, API_DOCS_PATH)],
        exclude_opt_key=PUBLIC_OPT_KEY,
        openapi_security_scheme_name=SECURITY_SCHEME,
        description="Session JWT: the `" + SESSION_COOKIE + "` cookie for browsers, or `Authorization: Bearer`.",
    )


def csrf_exempt_paths() -> list[str]:
    return [f"^{p}$" for p in (HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH, "/auth/dev-login")]


__all__ = [
    "CLEAR_SESSION_COOKIE",
    "CSRF_COOKIE",
    "PUBLIC_OPT_KEY",
    "build_jwt_auth",
    "csrf_exempt_paths",
    "issue_session",
    "retrieve_user",
    "safe_next",
    "session_user",
]
