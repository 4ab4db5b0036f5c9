"""Developer tasks. ``python3 -m pip install nox && nox -l`` lists them."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

DEV_DATABASE = "sqlite+aiosqlite:///expense-tracker.sqlite3"


@nox.session
def dev(session: nox.Session) -> None:
    """Serve the app on http://127.0.0.1:8000 (embedded SQLite, dev login, auto-reload)."""
    session.install("-e", ".")
    env = {"APP_ENV": "development", "DATABASE_URL": os.environ.get("DATABASE_URL", DEV_DATABASE)}
    session.run("expense-tracker", "database", "upgrade", "--no-prompt", env=env)
    serve = ["expense-tracker", "run", "--host", "127.0.0.1", "--port", "8000", "--reload"]
    session.run(*serve, *session.posargs, env=env)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on PostgreSQL and SQLite (REQUIRE_POSTGRES=1 turns a missing PostgreSQL into a failure)."""
    session.install("-e", ".[test]")
    session.run("pytest", "--numprocesses=auto", "--dist=loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on the package."""
    session.install("-e", ".[test,lint]")
    session.run("mypy")


@nox.session
def fmt(session: nox.Session) -> None:
    """Apply ruff fixes and formatting."""
    session.install("ruff")
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")
