from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State

from expense_tracker.constants import HEALTH_LIVE_PATH, HEALTH_READY_PATH, READINESS_TIMEOUT_SECONDS
from expense_tracker.domain.accounts.auth import PUBLIC_OPT_KEY
from expense_tracker.domain.system.services import ping_database
from expense_tracker.lib.problems import PROBLEM_JSON


class Health(msgspec.Struct):
    status: str


class SystemController(Controller):
    tags = ["system"]
    opt = {PUBLIC_OPT_KEY: True}

    @get(HEALTH_LIVE_PATH, operation_id="liveness", security=[{}], cache_control=None)
    async def liveness(self) -> Health:
        """The process is serving requests. Touches nothing else, so a slow database never restarts pods."""
        return Health(status="ok")

    @get(HEALTH_READY_PATH, operation_id="readiness", security=[{}])
    async def readiness(self, state: State) -> Response[object]:
        """Ready when the database answers ``SELECT 1`` within a second."""
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
                await ping_database(state.alchemy.get_engine())
        except Exception:  # any failure means "not ready"; the reason goes to the logs, not the client
            import structlog

            structlog.get_logger(__name__).warning("readiness check failed", exc_info=True)
            body = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "The database is not reachable.",
                "instance": HEALTH_READY_PATH,
            }
            return Response(body, status_code=503, media_type=PROBLEM_JSON)
        return Response(Health(status="ok"))
