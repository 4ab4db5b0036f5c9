# syntax=docker/dockerfile:1
# One image for the web app and the migration Job. Built by .github/workflows/release.yml for amd64 and arm64.

# Exact base version for both stages (Debian bookworm, Python 3.11 — the version the project is tested on).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
# Dependencies are resolved from pyproject.toml into a self-contained virtualenv, then only that venv is shipped.
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-compile .

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/expense-tracker/expense-tracker
LABEL org.opencontainers.image.title="expense-tracker" \
      org.opencontainers.image.description="Expense tracking web app (Litestar API + server-rendered UI)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
# A fixed non-root user; the generated Deployment declares the same runAsUser/runAsGroup (a test checks both).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
# The root filesystem is read-only in the cluster: Python writes no bytecode, and the only writable place is /tmp
# (an emptyDir), which also holds the Prometheus multiprocess files (emptied by `expense-tracker run` on start).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    WEB_CONCURRENCY=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc \
    BUILD_COMMIT=${REVISION}
WORKDIR /app
USER 10001:10001
# The app, and the metrics the supervisor serves on their own port (scraped in-cluster, never routed by the Ingress).
EXPOSE 8000 9000
# Exec form: the server is PID 1 and receives SIGTERM itself (drains in-flight requests, exits 0).
# The migration Job runs the same image with `expense-tracker database upgrade --no-prompt`.
ENTRYPOINT ["expense-tracker"]
CMD ["run", "--host", "0.0.0.0", "--port", "8000", "--metrics-host", "0.0.0.0", "--metrics-port", "9000"]
