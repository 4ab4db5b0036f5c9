from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
from typing import Annotated, Any

import jwt
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import Cookie, State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.security.jwt import JWTCookieAuth, Token
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from expense_tracker.constants import OAUTH_STATE_COOKIE, SESSION_COOKIE
from expense_tracker.db.models import User
from expense_tracker.dependencies import AppSettings, Providers, Users
from expense_tracker.domain.accounts.auth import PUBLIC_OPT_KEY, SESSION_SECURITY, session_user
from expense_tracker.domain.accounts.oauth import SignInError, pkce_pair
from expense_tracker.domain.accounts.schemas import AccessToken, DevLogin, UserRead, UserSettings
from expense_tracker.domain.accounts.services import DEV_PROVIDER, AccountDisabledError, EmailInUseError
from expense_tracker.lib import metrics

STATE_TTL = dt.timedelta(minutes=10)
# Refusals the user can act on are 4xx; anything else a provider gets wrong stays a 502.
SIGN_IN_ERROR_STATUS = {"unverified_email": 403, "missing_claims": 502, "provider_refused": 400}
CLEAR_SESSION_COOKIE = Cookie(
    key=SESSION_COOKIE,
    value="",
    path="/",
    max_age=0,
    httponly=True,
    samesite="lax",
    description="The session cookie, cleared.",
)
EMAIL_IN_USE = (
    "This e-mail already has an account; sign in with the provider you used before, then link this one from Settings."
)


def safe_next(target: str | None) -> str:
    """Only same-site absolute paths: ``//evil.example`` and ``https://...`` become ``/`` (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        currency=user.currency,
        theme=user.theme,
        timezone=user.timezone,
        created_at=user.created_at,
    )


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


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    opt = {PUBLIC_OPT_KEY: True}

    @post("/dev-login", operation_id="devLogin", status_code=HTTP_200_OK, security=[{}])
    async def dev_login(
        self, data: JSONBody[DevLogin], state: State, settings: AppSettings, users: Users
    ) -> Response[Any]:
        """Development only: sign in as any email without a provider. 404 in production."""
        if not settings.dev_login:
            raise NotFoundException()
        try:
            user = await users.sign_in(
                provider=DEV_PROVIDER, subject=data.email.lower(), email=data.email, name=data.name
            )
        except AccountDisabledError:
            raise HTTPException(status_code=403, detail="This account is deactivated.") from None
        metrics.SIGN_INS.labels(provider=DEV_PROVIDER).inc()
        token, cookie = issue_session(state, user)
        body = AccessToken(access_token=token, expires_in=settings.session_ttl_minutes * 60)
        return Response(body, cookies=[cookie])

    @get("/{provider:str}/login", operation_id="oauthLogin", security=[{}])
    async def oauth_login(
        self,
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        settings: AppSettings,
        providers: Providers,
        users: Users,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
        link: Annotated[
            bool, QueryParameter(description="Signed in: add this provider to your account (Settings → Link).")
        ] = False,
    ) -> Redirect:
        """Redirect to the provider with a fresh ``state`` and PKCE challenge, remembered in a short-lived cookie."""
        idp = await _provider(providers, provider)
        verifier, challenge = pkce_pair()
        state_value = secrets.token_urlsafe(32)
        url = await providers.authorization_url(idp, state_value, challenge)
        expires = dt.datetime.now(dt.UTC) + STATE_TTL
        claims = {"p": provider, "s": state_value, "v": verifier, "n": safe_next(next_path), "exp": expires}
        # Linking is asked for explicitly and bound to this signed state: a sign-in that merely happens while some
        # session is live (a shared browser, a planted state cookie) never attaches an identity to that account.
        if link and (current := await session_user(request, users)) is not None:
            claims["u"] = str(current.id)
        cookie = Cookie(
            key=OAUTH_STATE_COOKIE,
            value=jwt.encode(claims, settings.secret_key, algorithm="HS256"),
            path="/auth",
            max_age=int(STATE_TTL.total_seconds()),
            httponly=True,
            secure=settings.is_production,
            samesite="lax",
        )
        return Redirect(url, cookies=[cookie], status_code=302)

    @get("/{provider:str}/callback", operation_id="oauthCallback", security=[{}])
    async def oauth_callback(
        self,
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        state: State,
        settings: AppSettings,
        providers: Providers,
        users: Users,
        code: FromQuery[str | None] = None,
        state_param: Annotated[str | None, QueryParameter(name="state")] = None,
        error: FromQuery[str | None] = None,
    ) -> Redirect:
        """Check ``state`` (once only), exchange the code with the PKCE verifier, then sign in the identity's user
        or, when the browser is already signed in and the identity is new, link it to that user."""
        idp = await _provider(providers, provider)
        try:
            stored = jwt.decode(
                request.cookies.get(OAUTH_STATE_COOKIE, ""),
                settings.secret_key,
                algorithms=["HS256"],
                options={"require": ["exp"]},  # its expiry is also how long the used state is remembered
            )
        except jwt.PyJWTError:
            stored = {}
        expected, verifier = str(stored.get("s", "")), str(stored.get("v", ""))
        # Without the verifier the exchange would go out with PKCE silently off, so a cookie lacking it is as bad as
        # a missing one.
        matches = bool(expected) and hmac.compare_digest(expected, state_param or "")
        if not matches or not verifier or stored.get("p") != provider:
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason="bad_state").inc()
            raise HTTPException(status_code=400, detail="Sign-in state is missing or does not match; start again.")
        if not await users.consume_once(expected, dt.datetime.fromtimestamp(int(stored["exp"]), dt.UTC)):
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason="bad_state").inc()
            raise HTTPException(status_code=400, detail="This sign-in was already used; start again.")
        if error or not code:
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason="cancelled").inc()
            raise HTTPException(status_code=400, detail="Sign-in was cancelled at the provider.")
        try:
            identity = await providers.exchange(idp, code, verifier)
            user = await users.sign_in(
                provider=provider,
                subject=identity.subject,
                email=identity.email,
                name=identity.name,
                signed_in=await linking_user(request, users, stored.get("u")),
            )
        except SignInError as exc:
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason=exc.reason).inc()
            raise HTTPException(status_code=SIGN_IN_ERROR_STATUS.get(exc.reason, 502), detail=exc.message) from None
        except EmailInUseError:
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason="email_in_use").inc()
            raise HTTPException(status_code=409, detail=EMAIL_IN_USE) from None
        except AccountDisabledError:
            metrics.SIGN_IN_FAILURES.labels(provider=provider, reason="disabled").inc()
            raise HTTPException(status_code=403, detail="This account is deactivated.") from None
        metrics.SIGN_INS.labels(provider=provider).inc()
        _, cookie = issue_session(state, user)
        clear_state = Cookie(key=OAUTH_STATE_COOKIE, value="", path="/auth", max_age=0, httponly=True)
        return Redirect(safe_next(str(stored.get("n", "/"))), cookies=[cookie, clear_state], status_code=302)

    @post(
        "/logout",
        operation_id="logout",
        status_code=HTTP_204_NO_CONTENT,
        opt={PUBLIC_OPT_KEY: False},
        security=SESSION_SECURITY,
        response_cookies=[CLEAR_SESSION_COOKIE],
    )
    async def logout(self, request: Request[User, Token, Any], users: Users) -> None:
        """Revoke this session's token server-side: the same token is refused (401) from now on."""
        # Returning None (not Response[None]) is what makes the schema say "204, no content" rather than JSON null.
        token = request.auth
        await users.revoke(str(token.jti), token.exp)


async def linking_user(request: Request[Any, Any, Any], users: Users, requested_for: object) -> User | None:
    """The account a new identity joins: the one that asked to link at login, if it is still this browser's live
    session at the callback; otherwise none (a plain sign-in)."""
    if not requested_for:
        return None
    current = await session_user(request, users)
    return current if current is not None and str(current.id) == requested_for else None


async def _provider(providers: Providers, key: str) -> Any:
    try:
        idp = await providers.get(key)
    except SignInError as exc:
        raise HTTPException(status_code=503, detail=exc.message) from None
    if idp is None:
        raise NotFoundException()
    return idp


class AccountController(Controller):
    path = "/api"
    tags = ["account"]
    security = SESSION_SECURITY

    @get("/me", operation_id="getMe")
    async def me(self, request: Request[User, Token, Any]) -> UserRead:
        """The signed-in user."""
        return user_read(request.user)

    @get("/settings", operation_id="getSettings")
    async def get_settings(self, request: Request[User, Token, Any]) -> UserSettings:
        user = request.user
        return UserSettings(currency=user.currency, theme=user.theme, timezone=user.timezone)  # type: ignore[arg-type]

    @put("/settings", operation_id="putSettings")
    async def put_settings(
        self, request: Request[User, Token, Any], data: JSONBody[UserSettings], users: Users
    ) -> UserSettings:
        user = request.user
        await users.update({"currency": data.currency, "theme": data.theme, "timezone": data.timezone}, item_id=user.id)
        return data
