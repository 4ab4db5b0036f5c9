"""CSRF protection for cookie-authenticated browsers that does not burden Bearer-token API clients.

A cross-site page can make a browser send our cookie, but it cannot add an ``Authorization`` header, so requests
authenticated by a Bearer header are not CSRF-able and skip the token check.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import Receive, Scope, Send


def _has_bearer(scope: Scope) -> bool:
    return any(k == b"authorization" and v[:7].lower() == b"bearer " for k, v in scope["headers"])


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _has_bearer(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
