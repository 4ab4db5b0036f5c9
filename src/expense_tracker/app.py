"""The one place that builds the Litestar app. Imports live inside ``create_app`` so the CLI starts fast."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expense_tracker.constants import API_PREFIX

if TYPE_CHECKING:
    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
    from litestar import Litestar, Router
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from expense_tracker.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "db" / "migrations"


def build_alchemy_config(settings: Settings) -> Any:
    from advanced_alchemy.extensions.litestar import (
        AlembicAsyncConfig,
        AsyncSessionConfig,
        EngineConfig,
        SQLAlchemyAsyncConfig,
    )

    return SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        # Commit on 2xx *and* 3xx: form POST -> redirect and OAuth callbacks must persist what they did.
        before_send_handler="autocommit_include_redirects",
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(
            pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, pool_pre_ping=True
        ),
        alembic_config=AlembicAsyncConfig(script_location=str(MIGRATIONS_DIR), version_table_name="alembic_version"),
        create_all=False,
    )


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FOREIGN KEY clauses otherwise
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _openapi_router() -> Router:
    """Serve only the schema and the docs under ``/api``.

    Litestar's OpenAPI router also answers every other ``/api/...`` path with an HTML 404 page; the guard turns those
    into the app's problem+json 404 instead.
    """
    from litestar import Router
    from litestar.exceptions import NotFoundException

    from expense_tracker.constants import API_DOCS_PATH, OPENAPI_PATH

    def docs_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope["path"] not in {OPENAPI_PATH, API_DOCS_PATH}:
            raise NotFoundException()

    return Router(path=API_PREFIX, route_handlers=[], include_in_schema=False, guards=[docs_only])


def start_metrics(alchemy: SQLAlchemyAsyncConfig, settings: Settings) -> asyncio.Task[None]:
    """Pool and build metrics, and the background refresh of the active-users gauge (cancel it on shutdown)."""
    import structlog

    from expense_tracker.constants import ACTIVE_USERS_WINDOW
    from expense_tracker.domain.accounts.services import UserService
    from expense_tracker.lib import metrics

    metrics.instrument_pool(alchemy.get_engine(), settings.db_pool_size + settings.db_max_overflow)
    metrics.initialise(settings.build_commit)

    async def count() -> int:
        async with alchemy.get_session() as session:
            return await UserService(session=session).count_active(ACTIVE_USERS_WINDOW)

    def log_failure(exc: BaseException) -> None:
        structlog.get_logger("expense_tracker.metrics").warning("active users count failed", error=type(exc).__name__)

    return asyncio.create_task(metrics.refresh_active_users(count, log_failure))


def create_app(settings: Settings | None = None) -> Litestar:

    from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.config.csrf import CSRFConfig
    from litestar.datastructures import State
    from litestar.middleware import DefineMiddleware
    from litestar.openapi import OpenAPIConfig
    from litestar.openapi.plugins import SwaggerRenderPlugin
    from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
    from sqlalchemy import event

    from expense_tracker import __version__
    from expense_tracker.constants import (
        API_DOCS_PATH,
        CSRF_COOKIE,
        CSRF_HEADER,
        HEALTH_LIVE_PATH,
        HEALTH_READY_PATH,
        JSON_BODY_MAX_BYTES,
        METRICS_PATH,
        METRICS_PREFIX,
    )
    from expense_tracker.db import models  # noqa: F401 - registers the tables with the metadata
    from expense_tracker.dependencies import DEPENDENCIES
    from expense_tracker.domain.accounts.auth import PUBLIC_OPT_KEY, build_jwt_auth, csrf_exempt_paths
    from expense_tracker.domain.accounts.controllers import AccountController, AuthController
    from expense_tracker.domain.accounts.oauth import IdentityProviders
    from expense_tracker.domain.categories.controllers import CategoryController
    from expense_tracker.domain.expenses.controllers import ExpenseController
    from expense_tracker.domain.reports.controllers import ReportController
    from expense_tracker.domain.system.controllers import SystemController
    from expense_tracker.domain.web import template_config, web_controllers
    from expense_tracker.lib import json_body, metrics, openapi_docs
    from expense_tracker.lib.csrf import BearerAwareCSRFMiddleware
    from expense_tracker.lib.logging import RequestContextMiddleware, configure_logging
    from expense_tracker.lib.problems import EXCEPTION_HANDLERS, MiddlewareErrorBoundary
    from expense_tracker.lib.security_headers import SecurityHeadersMiddleware
    from expense_tracker.settings import load_settings

    settings = settings or load_settings()
    configure_logging(settings)
    alchemy = build_alchemy_config(settings)
    jwt_auth = build_jwt_auth(settings)
    identity_providers = IdentityProviders(settings)
    prometheus = PrometheusConfig(
        app_name="expense_tracker",
        prefix=METRICS_PREFIX,
        group_path=True,  # route templates, not raw paths: bounded label cardinality
        exclude=[f"^{p}$" for p in (METRICS_PATH, HEALTH_LIVE_PATH, HEALTH_READY_PATH)],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.is_production,
        cookie_samesite="lax",
        exclude=csrf_exempt_paths(),
    )

    class MetricsController(PrometheusController):
        path = METRICS_PATH
        opt = {PUBLIC_OPT_KEY: True}
        include_in_schema = False

    def install_auth(app_config: AppConfig) -> AppConfig:
        # Litestar puts auth outermost; moving it inside the request-id and metrics middleware (and before CSRF, so an
        # anonymous POST is told 401 rather than 403) means refused requests still get a request id, an access-log
        # line and their place in the RED metrics.
        app_config = jwt_auth.on_app_init(app_config)
        auth = app_config.middleware.pop(0)  # on_app_init inserted it at the front
        app_config.middleware.insert(app_config.middleware.index(MiddlewareErrorBoundary) + 1, auth)
        return app_config

    async def on_startup(app: Litestar) -> None:
        engine = alchemy.get_engine()
        if settings.is_sqlite:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        await identity_providers.start()

        app.state.active_users_task = start_metrics(alchemy, settings)

    async def on_shutdown(app: Litestar) -> None:
        await metrics.stop(app.state.get("active_users_task"))
        await identity_providers.close()

    return Litestar(
        route_handlers=[
            SystemController,
            MetricsController,
            AuthController,
            AccountController,
            CategoryController,
            ExpenseController,
            ReportController,
            *web_controllers(),
        ],
        template_config=template_config(),
        plugins=[SQLAlchemyPlugin(config=alchemy)],
        on_app_init=[install_auth],
        middleware=[
            RequestContextMiddleware,
            SecurityHeadersMiddleware,
            prometheus.middleware,
            MiddlewareErrorBoundary,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
        ],
        dependencies=DEPENDENCIES,
        guards=[json_body.json_body_guard],  # JSON-body routes only: media type, nesting, duplicate keys (issue #10)
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup, openapi_docs.document_app],
        on_shutdown=[on_shutdown],
        openapi_config=OpenAPIConfig(
            title="expense-tracker API",
            version=__version__,
            path=API_PREFIX,
            render_plugins=[SwaggerRenderPlugin(path=API_DOCS_PATH.removeprefix(API_PREFIX))],
            openapi_router=_openapi_router(),
        ),
        request_max_body_size=JSON_BODY_MAX_BYTES,
        state=State(
            {
                "settings": settings,
                "alchemy": alchemy,
                "jwt_auth": jwt_auth,
                "identity_providers": identity_providers,
            }
        ),
        logging_config=None,
        debug=False,
    )
