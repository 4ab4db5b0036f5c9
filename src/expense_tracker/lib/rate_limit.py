"""Rate limits: sign-in per client address, writes and imports per user (the ``limits`` library, moving windows).

Counters live in Redis when ``REDIS_URL`` is set (atomic Lua scripts, shared by every worker and pod), otherwise in
the worker's memory. A Redis outage fails open: limits pause, the API keeps answering. Enforced by an app-wide guard,
so it runs after authentication (the user is known) and before the request body is read.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS
from litestar.types import ExceptionHandlersMap

from expense_tracker.lib.problems import html_error, problem_response, wants_html
from expense_tracker.settings import Settings

log = structlog.get_logger("expense_tracker.rate_limit")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SIGN_IN = re.compile(r"^/auth/[^/]+/(login|callback)$|^/auth/dev-login$|^/login/dev$")
# The exact-format import, and the bank import's upload and commit (API and wizard pages).
_IMPORT = re.compile(
    r"^/api/expenses/import$|^/import$|^/api/imports/(?:uploads|commit)$|^/import/bank(?:/[^/]+/import)?$"
)


IPV6_CLIENT_PREFIX = 64
"""An IPv6 client usually holds a whole /64 (the smallest subnet a network hands out): counting each address alone
would give it 2^64 budgets."""


def _client_key(address: str) -> str:
    """What a per-client limit counts: the IPv4 address, or the IPv6 /64 it lies in."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", or a test client's name
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:203.0.113.9 is the IPv4 client 203.0.113.9
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


class RateLimitedError(HTTPException):
    status_code = HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            detail=f"Too many requests; try again in {retry_after} s.", headers={"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rule:
    name: str
    limits: tuple[RateLimitItem, ...]


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.trusted_hops = settings.trusted_proxy_hops
        self.prefix = settings.rate_limit_prefix
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=self.prefix,
                wrap_exceptions=True,
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
            )
        else:
            storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(storage)
        self.sign_in = Rule("sign-in", tuple(parse_many(settings.rate_limit_auth)))
        self.writes = Rule("write", tuple(parse_many(settings.rate_limit_writes)))
        self.imports = Rule("import", tuple(parse_many(settings.rate_limit_imports)))

    def client_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The socket peer, or with ``TRUSTED_PROXY_HOPS=n`` the ``X-Forwarded-For`` entry the n-th proxy added.

        Entries further left were written by the client itself and can be anything, so they are never used.
        """
        peer = connection.client.host if connection.client else "unknown"
        if self.trusted_hops == 0:
            return _client_key(peer)
        forwarded = [
            part.strip() for value in connection.headers.getall("x-forwarded-for", []) for part in value.split(",")
        ]
        if len(forwarded) < self.trusted_hops:
            return _client_key(peer)  # not (fully) proxied: the direct peer is the best we know
        candidate = forwarded[-self.trusted_hops]
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return _client_key(peer)
        return _client_key(candidate)

    def rule_for(self, method: str, path: str) -> Rule | None:
        if _SIGN_IN.match(path):
            return self.sign_in
        if method in SAFE_METHODS:
            return None
        return self.imports if _IMPORT.match(path) else self.writes

    async def check(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        method = str(connection.scope.get("method", "GET"))  # websockets have none; they are not limited
        rule = self.rule_for(method, connection.scope["path"])
        if rule is None:
            return
        user = connection.scope.get("user")
        who = (
            f"user:{user.id}"
            if rule is not self.sign_in and user is not None
            else f"ip:{self.client_address(connection)}"
        )
        try:
            for item in rule.limits:
                if not await self.limiter.hit(item, rule.name, who):
                    stats = await self.limiter.get_window_stats(item, rule.name, who)
                    raise RateLimitedError(max(1, math.ceil(stats.reset_time - time.time())))
        except StorageError as exc:
            # Refusing every write because the counter store is down would turn a Redis blip into an outage.
            log.warning("rate limit store unavailable; not limiting", error=type(exc.storage_error).__name__)


async def rate_limit_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    limiter: RateLimiter = connection.app.state.rate_limiter
    await limiter.check(connection)


def rate_limited_handler(request: Request[Any, Any, Any], exc: RateLimitedError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)}
    if wants_html(request):
        message = f"Too many requests. Please wait {exc.retry_after} seconds and try again."
        response = html_error(request, HTTP_429_TOO_MANY_REQUESTS, message)
    else:
        response = problem_response(request, HTTP_429_TOO_MANY_REQUESTS, exc.detail or HTTPStatus(429).phrase)
    response.headers.update(headers)
    return response


RATE_LIMIT_HANDLERS: ExceptionHandlersMap = {RateLimitedError: rate_limited_handler}
