"""Security headers on every response, routed or not: a strict CSP (no inline script), no sniffing, no framing, no
referrer leak, HSTS in production, and no caching of anything but the static assets."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from expense_tracker.constants import API_DOCS_PATH
from expense_tracker.settings import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Production is https only (PUBLIC_URL is checked at start-up); two years, the preload list's minimum.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# Pages and API answers are per user: no shared or browser cache may keep them (a signed-out user's back button, a
# proxy). Only responses that declare their own policy keep it: the content-hashed static assets, cached for a year.
NO_STORE = "no-store"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = dict(HEADERS)
        if settings.is_production:
            self.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        # The development-only docs page loads Swagger UI from its CDN; production does not serve it (see create_app).
        self.docs_exempt = not settings.is_production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        policy = not (self.docs_exempt and scope["path"] == API_DOCS_PATH)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in self.headers.items():
                    if policy or name != "Content-Security-Policy":
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_with_headers)
