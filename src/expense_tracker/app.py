"""The one place that builds the Litestar app. Imports live inside ``create_app`` so the CLI starts fast."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expense_tracker.constants import API_PREFIX

if TYPE_CHECKING:
    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
    from litestar import Litestar, Router
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from litestar.openapi import OpenAPIConfig

    from expense_tracker.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "db" / "migrations"
UNUSED_OPTIONAL_MODULES = ("cryptography", "pydantic", "pygments")
"""Optional dependencies that libraries import only because they are installed, which a worker never uses: PyJWT
loads cryptography for RSA/EC keys (sessions are HS256 and OIDC identities come from the userinfo endpoint),
advanced-alchemy and Litestar probe pydantic (the app's types are msgspec structs and dataclasses), Mako (via
advanced-alchemy's Alembic commands) loads pygments for its error pages. Together ~20 MiB of every worker's RSS."""


def build_alchemy_config(settings: Settings) -> Any:
    from advanced_alchemy.extensions.litestar import AlembicAsyncConfig, AsyncSessionConfig, EngineConfig
    from advanced_alchemy.utils.dataclass import Empty

    from expense_tracker.db.folding import POSTGRES_SEARCH_SETTINGS
    from expense_tracker.lib.db_errors import commit_in_asgi_wrapper
    from expense_tracker.lib.request_sessions import RequestSessionConfig

    # Reads run without BEGIN/COMMIT (see lib/request_sessions.py); writes keep one transaction per request.
    config = RequestSessionConfig(
        connection_string=settings.database_url,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # On asyncpg a pre-ping is BEGIN + ";" + ROLLBACK: three round trips on every checkout, more than a read's
            # own statement. PostgreSQL instead gets ``_drop_closed_connections`` (no round trip); SQLite keeps it.
            pool_pre_ping=settings.is_sqlite,
            # A failed statement's log line would otherwise carry its bound values: users' titles and notes.
            hide_parameters=settings.is_production,
            # Sent with each new connection (no round trip): the search's settings, e.g. its typo threshold.
            connect_args=Empty if settings.is_sqlite else {"server_settings": POSTGRES_SEARCH_SETTINGS},
        ),
        alembic_config=AlembicAsyncConfig(script_location=str(MIGRATIONS_DIR), version_table_name="alembic_version"),
        create_all=False,
    )
    # The commit happens in ``CommitOnResponse`` (wrapped around the app in ``create_app``): on 2xx *and* 3xx, as form
    # POST -> redirect and OAuth callbacks must persist what they did, and a failed commit turns the response into a
    # 503/500 (advanced-alchemy's own handler would still send the 2xx).
    config.before_send_handler = commit_in_asgi_wrapper
    return config


def _drop_closed_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose socket the server closed (restart, failover, idle kill) is replaced at checkout.

    asyncpg notices the closed socket on the event loop, so this costs no round trip; the pool retries the checkout
    with a new connection when a ``DisconnectionError`` is raised here. A connection that dies unnoticed still fails
    its first statement (a 503, and SQLAlchemy invalidates the pool's older connections), as it would after a ping.
    """
    from sqlalchemy.exc import DisconnectionError

    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


def _install_pool_events(engine: Any, settings: Settings) -> None:
    from sqlalchemy import event

    if settings.is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine, "checkout", _drop_closed_connections)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FOREIGN KEY clauses otherwise
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    from expense_tracker.db.folding import register_sqlite_functions

    register_sqlite_functions(dbapi_connection)  # the search's et_fold and et_similar (PostgreSQL has them in SQL)


def _openapi_router(served: frozenset[str]) -> Router:
    """Serve only the ``served`` paths (the schema, and the docs in development) under ``/api``.

    Litestar's OpenAPI router also answers every other ``/api/...`` path with an HTML 404 page; the guard turns those
    into the app's problem+json 404 instead.
    """
    from litestar import Router
    from litestar.exceptions import NotFoundException

    def docs_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope["path"] not in served:
            raise NotFoundException()

    return Router(path=API_PREFIX, route_handlers=[], include_in_schema=False, guards=[docs_only])


def _openapi_config(settings: Settings) -> OpenAPIConfig:
    from litestar.openapi import OpenAPIConfig
    from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, SwaggerRenderPlugin

    from expense_tracker import __version__
    from expense_tracker.constants import API_DOCS_PATH, OPENAPI_PATH

    # The Swagger UI page loads its script from a public CDN without subresource integrity, on our origin: production
    # serves only the JSON schema (and so needs no CSP exemption).
    docs: list[OpenAPIRenderPlugin] = [JsonRenderPlugin()]
    served = {OPENAPI_PATH}
    if not settings.is_production:
        docs.append(SwaggerRenderPlugin(path=API_DOCS_PATH.removeprefix(API_PREFIX)))
        served.add(API_DOCS_PATH)
    return OpenAPIConfig(
        title="expense-tracker API",
        version=__version__,
        path=API_PREFIX,
        render_plugins=docs,
        openapi_router=_openapi_router(frozenset(served)),
    )


def start_metrics(alchemy: SQLAlchemyAsyncConfig, settings: Settings) -> asyncio.Task[None]:
    """Pool and build metrics, and the background refresh of the active-users gauge (cancel it on shutdown)."""
    import structlog

    from expense_tracker.constants import ACTIVE_USERS_WINDOW
    from expense_tracker.domain.accounts.services import UserService
    from expense_tracker.lib import metrics

    metrics.instrument_pool(alchemy.get_engine(), settings.db_pool_size + settings.db_max_overflow)
    metrics.initialise(settings.build_commit)

    async def count() -> int:
        async with UserService.new(config=alchemy) as users:
            return await users.count_active(ACTIVE_USERS_WINDOW)

    def log_failure(exc: BaseException) -> None:
        structlog.get_logger("expense_tracker.metrics").warning("active users count failed", error=type(exc).__name__)

    return asyncio.create_task(metrics.refresh_active_users(count, log_failure))


def freeze_startup_heap() -> None:
    """Everything loaded by startup lives as long as the worker: moving it out of the garbage collector's reach keeps
    full collections (a large import triggers some) from scanning the whole heap, which stalled the loop for ~200 ms."""
    gc.freeze()


def create_worker_app() -> Litestar:
    """The app as ``expense-tracker run`` serves it: ``create_app`` in a process that refuses to import
    ``UNUSED_OPTIONAL_MODULES``; the libraries that probe them treat them as absent (a ``None`` entry in
    ``sys.modules`` makes ``import`` raise ``ModuleNotFoundError``). Only for server workers: the CLI, migrations and
    tests may need them."""
    for name in UNUSED_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    return create_app()


def api_controllers() -> list[Any]:
    """The JSON API, one controller per domain context (the browser pages are ``web_controllers()``)."""
    from expense_tracker.domain.accounts.controllers import AccountController, AuthController
    from expense_tracker.domain.budgets.controllers import BudgetController
    from expense_tracker.domain.categories.controllers import CategoryController
    from expense_tracker.domain.expenses.controllers import ExpenseController
    from expense_tracker.domain.imports.controllers import BankImportController
    from expense_tracker.domain.rates.controllers import RateController
    from expense_tracker.domain.recurring.controllers import RecurringController
    from expense_tracker.domain.reports.controllers import ReportController
    from expense_tracker.domain.splits.controllers import SplitController
    from expense_tracker.domain.system.controllers import SystemController
    from expense_tracker.domain.tags.controllers import TagController
    from expense_tracker.domain.trash.controllers import TrashController

    return [
        SystemController,
        AuthController,
        AccountController,
        CategoryController,
        ExpenseController,
        ReportController,
        RateController,
        BankImportController,
        RecurringController,
        BudgetController,
        TrashController,
        TagController,
        SplitController,
    ]


def create_app(settings: Settings | None = None) -> Litestar:

    from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.config.csrf import CSRFConfig
    from litestar.datastructures import State
    from litestar.middleware import DefineMiddleware
    from litestar.plugins.prometheus import PrometheusConfig

    from expense_tracker.constants import (
        CSRF_COOKIE,
        CSRF_HEADER,
        HEALTH_LIVE_PATH,
        HEALTH_READY_PATH,
        JSON_BODY_MAX_BYTES,
        METRICS_PREFIX,
    )
    from expense_tracker.db import models  # noqa: F401 - registers the tables with the metadata
    from expense_tracker.dependencies import DEPENDENCIES
    from expense_tracker.domain.accounts.auth import build_jwt_auth, csrf_exempt_paths
    from expense_tracker.domain.accounts.oauth import IdentityProviders
    from expense_tracker.domain.accounts.session_cache import SessionCache
    from expense_tracker.domain.web import template_config, web_controllers
    from expense_tracker.lib import db_errors, json_body, metrics, openapi_docs, rate_limit
    from expense_tracker.lib.csrf import BearerAwareCSRFMiddleware
    from expense_tracker.lib.locales import apply_request_locale
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
        exclude=[f"^{p}$" for p in (HEALTH_LIVE_PATH, HEALTH_READY_PATH)],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.is_production,
        cookie_samesite="lax",
        exclude=csrf_exempt_paths(),
    )

    def install_auth(app_config: AppConfig) -> AppConfig:
        # Litestar puts auth outermost; moving it inside the error boundary (and before CSRF, so an anonymous POST is
        # told 401 rather than 403) turns a refusal into its response right there, with the route's handlers.
        app_config = jwt_auth.on_app_init(app_config)
        auth = app_config.middleware.pop(0)  # on_app_init inserted it at the front
        app_config.middleware.insert(app_config.middleware.index(MiddlewareErrorBoundary) + 1, auth)
        return app_config

    async def on_startup(app: Litestar) -> None:
        engine = alchemy.get_engine()
        _install_pool_events(engine.sync_engine, settings)
        await identity_providers.start()

        app.state.active_users_task = start_metrics(alchemy, settings)

    async def on_shutdown(app: Litestar) -> None:
        await metrics.stop(app.state.get("active_users_task"))
        await identity_providers.close()
        # advanced-alchemy's lifespan disposes the engine only for the first config built in a process: later configs
        # get a suffixed state key ("db_engine_1") that its own check (against the unsuffixed dependency key) misses,
        # so every further app in the process (tests, the CLI) kept its pooled connections open. Disposing here, after
        # the last task that could check one out has stopped, closes them whichever config this is (a second dispose
        # is a no-op).
        await alchemy.get_engine().dispose()

    app = Litestar(
        route_handlers=[*api_controllers(), *web_controllers()],
        template_config=template_config(),
        plugins=[SQLAlchemyPlugin(config=alchemy)],
        on_app_init=[install_auth],
        middleware=[
            MiddlewareErrorBoundary,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers={**EXCEPTION_HANDLERS, **db_errors.DB_ERROR_HANDLERS, **rate_limit.RATE_LIMIT_HANDLERS},
        # Rate limits first (they need no body); then JSON-body routes: media type, nesting, duplicate keys.
        guards=[rate_limit.rate_limit_guard, json_body.json_body_guard],
        # The UI's amounts and dates use the user's locale (lib/formatting.py reads it); see lib/locales.py.
        before_request=apply_request_locale,
        on_startup=[on_startup, openapi_docs.document_app, freeze_startup_heap],
        on_shutdown=[on_shutdown],
        openapi_config=_openapi_config(settings),
        request_max_body_size=JSON_BODY_MAX_BYTES,
        state=State(
            {
                "settings": settings,
                "alchemy": alchemy,
                "jwt_auth": jwt_auth,
                "session_cache": SessionCache(settings.session_cache_seconds),
                "identity_providers": identity_providers,
                "rate_limiter": rate_limit.RateLimiter(settings),
            }
        ),
        logging_config=None,
        debug=False,
    )
    # Route middleware runs only for requests a handler matched; these three wrap the whole app instead, so a 404 or
    # 405 from the router also gets a request id, an access-log line, the security headers and its place in the metrics.
    # The commit sits inside them, so a response it replaces (failed commit -> 503) is logged and counted as sent.
    committed = db_errors.CommitOnResponse(app.asgi_handler, alchemy.session_scope_key)
    app.asgi_handler = RequestContextMiddleware(
        SecurityHeadersMiddleware(metrics.RequestMetricsMiddleware(committed, config=prometheus), settings)
    )
    return app
