from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

import jwt
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import Cookie, State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from expense_tracker.constants import OAUTH_STATE_COOKIE
from expense_tracker.db.models import User
from expense_tracker.dependencies import AppSettings, Providers, Users
from expense_tracker.domain.accounts.auth import (
    CLEAR_SESSION_COOKIE,
    PUBLIC_OPT_KEY,
    SESSION_SECURITY,
    issue_session,
    safe_next,
    session_user,
)
from expense_tracker.domain.accounts.oauth import SignInError, pkce_pair
from expense_tracker.domain.accounts.schemas import AccessToken, DevLogin, UserRead, UserSettings
from expense_tracker.domain.accounts.services import DEACTIVATED, AccountDisabledError
from expense_tracker.lib.request_sessions import TRANSACTIONAL_OPT_KEY

STATE_TTL = dt.timedelta(minutes=10)
# Refusals the user can act on are 4xx; anything else a provider gets wrong stays a 502.
SIGN_IN_ERROR_STATUS = {
    "bad_state": 400,
    "cancelled": 400,
    "provider_refused": 400,
    "disabled": 403,
    "unverified_email": 403,
    "email_in_use": 409,
    "missing_claims": 502,
}


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
            user = await users.dev_sign_in(data.email, data.name)
        except AccountDisabledError:
            raise HTTPException(status_code=403, detail=DEACTIVATED) from None
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

    # A GET that signs in (user, categories, identity): one transaction, not the autocommit of other reads.
    @get(
        "/{provider:str}/callback",
        operation_id="oauthCallback",
        security=[{}],
        opt={TRANSACTIONAL_OPT_KEY: True},
    )
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
        try:
            user = await users.oauth_sign_in(
                idp,
                providers,
                stored=stored,
                state_param=state_param,
                code=code,
                error=error,
                linking_user=lambda: linking_user(request, users, stored.get("u")),
            )
        except SignInError as exc:
            raise HTTPException(status_code=SIGN_IN_ERROR_STATUS.get(exc.reason, 502), detail=exc.message) from None
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
    async def me(self, request: Request[User, Token, Any], users: Users) -> UserRead:
        """The signed-in user."""
        return users.to_schema(request.user, schema_type=UserRead)

    @get("/settings", operation_id="getSettings")
    async def get_settings(self, request: Request[User, Token, Any]) -> UserSettings:
        user = request.user
        return UserSettings(
            currency=user.currency,
            theme=user.theme,  # type: ignore[arg-type]
            timezone=user.timezone,
            convert_totals=user.convert_totals,
            locale=user.locale,
        )

    @put("/settings", operation_id="putSettings")
    async def put_settings(
        self, request: Request[User, Token, Any], data: JSONBody[UserSettings], users: Users
    ) -> UserSettings:
        """Saves at once, a change of currency included (the settings page asks to confirm that first; an API client
        has decided already). Budgets and expenses keep their own currencies either way."""
        await users.save_settings(request.user, data)
        return data
