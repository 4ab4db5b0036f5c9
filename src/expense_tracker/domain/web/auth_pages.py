from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.security.jwt import Token

from expense_tracker.db.models import User
from expense_tracker.dependencies import AppSettings, Providers, Users
from expense_tracker.domain.accounts.auth import CLEAR_SESSION_COOKIE, PUBLIC_OPT_KEY, issue_session, safe_next
from expense_tracker.domain.accounts.schemas import DevLogin
from expense_tracker.domain.accounts.services import AccountDisabledError
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import parse_form

SIGN_IN_ERRORS = {
    "cancelled": "Sign-in was cancelled. You can try again.",
    "failed": "Sign-in did not complete. Please try again.",
}


class AuthPages(Controller):
    include_in_schema = False
    opt = {**HTML_OPT, PUBLIC_OPT_KEY: True}

    @get("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        settings: AppSettings,
        providers: Providers,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        return render(
            request,
            "login.html",
            providers=providers.labels,
            dev_login=settings.dev_login,
            next_path=safe_next(next_path),
            error=SIGN_IN_ERRORS.get(error or ""),
            form={},
            errors={},
        )

    @post("/login/dev")
    async def dev_login(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        state: State,
        settings: AppSettings,
        providers: Providers,
        users: Users,
    ) -> Template | Redirect:
        """The development sign-in form (same rules as ``POST /auth/dev-login``)."""
        if not settings.dev_login:
            raise NotFoundException()
        login, errors = parse_form(DevLogin, data)
        next_path = safe_next(data.get("next"))
        if login is None:
            return render(
                request,
                "login.html",
                status_code=400,
                providers=providers.labels,
                dev_login=True,
                next_path=next_path,
                error=None,
                form=data,
                errors=errors,
            )
        try:
            user = await users.dev_sign_in(login.email, login.name)
        except AccountDisabledError:
            raise NotFoundException() from None
        _, cookie = issue_session(state, user)
        return Redirect(next_path, cookies=[cookie], status_code=303)

    @post("/logout", opt={PUBLIC_OPT_KEY: False})
    async def logout(self, request: Request[User, Token, Any], users: Users) -> Redirect:
        await users.revoke(str(request.auth.jti), request.auth.exp)
        response = see_other("/login", msg="signed-out")
        response.cookies.append(CLEAR_SESSION_COOKIE)
        return response
