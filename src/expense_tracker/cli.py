"""``expense-tracker``: the Litestar CLI bound to this app (``run``, ``database upgrade``, ``routes``, ...).

``run`` is our own: it serves with uvicorn in this process (the supervisor and its workers, no extra wrapper process),
empties the Prometheus multiprocess directory first, serves the metrics on their own port (``METRICS_PORT``, never
the public one) from this supervisor, and exits 0 after a graceful SIGTERM drain.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from expense_tracker.constants import HTTP_PORT, METRICS_PORT
from expense_tracker.settings import setting_value

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
APP_FACTORY = "expense_tracker.app:create_app"
WORKER_APP_FACTORY = "expense_tracker.app:create_worker_app"
GRACEFUL_SHUTDOWN_SECONDS = 20
"""Less than the pod's terminationGracePeriodSeconds, so in-flight requests finish before a SIGKILL."""


def ensure_multiprocess_dir() -> Path | None:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` if it is set: prometheus-client writes there as soon as the app is imported,
    by any command (the migration Job too), and in the cluster it is a fresh emptyDir."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return None
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


def reset_multiprocess_dir() -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before workers start: files from a previous run would inflate counters."""
    path = ensure_multiprocess_dir()
    if path is None:
        return
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn drains, restores the previous handler and re-raises the signal; ending here makes that exit code 0.
    raise SystemExit(0)


@click.command(name="run", help="Serve the app with uvicorn.")
@click.option("-H", "--host", default="127.0.0.1", show_default=True, envvar="LITESTAR_HOST")
@click.option("-p", "--port", default=HTTP_PORT, show_default=True, type=int, envvar="LITESTAR_PORT")
@click.option(
    "-W",
    "--wc",
    "--web-concurrency",
    "workers",
    default=setting_value("WEB_CONCURRENCY", {}),
    show_default=True,
    type=click.IntRange(min=1),
    envvar=["WEB_CONCURRENCY", "LITESTAR_WEB_CONCURRENCY"],
    help="Worker processes.",
)
@click.option("-r", "--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address of the metrics endpoint (the pod's 0.0.0.0 in the cluster, so Prometheus can reach it).",
)
@click.option("--metrics-port", default=METRICS_PORT, show_default=True, type=int, help="Port of the metrics endpoint.")
def run_command(host: str, port: int, workers: int, reload: bool, metrics_host: str, metrics_port: int) -> None:
    from expense_tracker.lib.metrics_server import start_metrics_server

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise click.UsageError("PROMETHEUS_MULTIPROC_DIR must be set when running more than one worker")
    reset_multiprocess_dir()
    # Started before the workers and stopped after they have drained, so a scrape during shutdown still answers.
    try:
        database_url = setting_value("DATABASE_URL", os.environ)  # the job gauges read job_run (lib/job_metrics.py)
        metrics_server, metrics_thread = start_metrics_server(
            metrics_host, metrics_port, ensure_multiprocess_dir(), database_url
        )
    except OSError as exc:  # port taken: say so plainly, before any worker starts
        raise click.ClickException(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror}") from None
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        _serve(host, port, workers, reload)
    finally:
        metrics_server.shutdown()
        metrics_server.server_close()
        metrics_thread.join()


def _serve(host: str, port: int, workers: int, reload: bool) -> None:
    import uvicorn

    uvicorn.run(
        WORKER_APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        reload_dirs=[str(Path(__file__).parent)] if reload else None,
        log_config=None,  # the app configures structlog; uvicorn's own config would print unstructured lines
        access_log=False,  # our request middleware writes the access line (without query strings)
        server_header=False,
        # X-Forwarded-For is interpreted in one place, by TRUSTED_PROXY_HOPS (lib/rate_limit.py); uvicorn's own rewrite
        # (trusting 127.0.0.1 by default) would let a local sidecar or test client pick the address limits key on.
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


@click.group(name="aggregates", help="Check or recompute the per-month expense totals the reports read.")
def aggregates_group() -> None:
    pass


@aggregates_group.command(name="verify", help="Recompute the totals from the expenses and list every difference.")
def verify_command() -> None:
    from expense_tracker.db import aggregates

    async def check(connection: AsyncConnection) -> list[str]:
        return [d.describe() for d in await aggregates.differences(connection)]

    differences = _with_database(check)
    for difference in differences:
        click.echo(difference)
    if differences:  # ClickException: the message on stderr and exit status 1
        raise click.ClickException(
            f"{len(differences)} aggregate row(s) differ; run `expense-tracker aggregates rebuild`"
        )
    click.echo("aggregates match the expenses")


@aggregates_group.command(name="rebuild", help="Recompute every total from the expenses, in one transaction.")
def rebuild_command() -> None:
    from expense_tracker.db import aggregates

    click.echo(f"rebuilt {_with_database(aggregates.rebuild)} aggregate row(s)")


@click.group(name="recurring", help="Recurring expenses.")
def recurring_group() -> None:
    pass


@recurring_group.command(
    name="run",
    help="Create every due recurring expense (catching up after downtime), then run the maintenance tasks. "
    "Idempotent and safe to run at any time, also twice at once. Exit status 1 when anything failed.",
)
def recurring_run_command() -> None:
    import asyncio

    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from expense_tracker.app import _sqlite_pragmas
    from expense_tracker.domain.recurring import runner
    from expense_tracker.settings import load_settings

    async def run() -> runner.RunResult:
        engine = create_async_engine(load_settings().database_url)
        if engine.dialect.name == "sqlite":  # foreign keys (SET NULL, CASCADE) and the busy timeout, as in the app
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        try:
            return await runner.run_job(engine)
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except Exception as exc:
        raise click.ClickException(f"recurring run failed: {type(exc).__name__}: {exc}") from None
    click.echo(f"created {result.created} recurring expense(s), {result.skipped} already created by another run")


def _with_database(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on ``DATABASE_URL`` (committed if it returns)."""
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    from expense_tracker.settings import load_settings

    async def run() -> T:
        engine = create_async_engine(load_settings().database_url)
        try:
            async with engine.begin() as connection:
                return await work(connection)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def main() -> NoReturn:
    os.environ.setdefault("LITESTAR_APP", APP_FACTORY)
    ensure_multiprocess_dir()
    if sys.argv[1:2] == ["run"]:
        # The supervisor only binds the socket, serves the metrics and spawns the workers (which import the app
        # themselves): Litestar's CLI group would import and build the whole app here first, ~110 MiB held by the
        # supervisor for the pod's lifetime for nothing.
        run_command(args=sys.argv[2:], prog_name="expense-tracker run")
    from litestar.cli.main import litestar_group

    litestar_group.add_command(aggregates_group)  # type: ignore[arg-type]
    litestar_group.add_command(recurring_group)  # type: ignore[arg-type]
    litestar_group.add_command(run_command)  # type: ignore[arg-type]  # replaces Litestar's run (which wraps workers in a subprocess)
    sys.exit(litestar_group())
