"""Names shared by the app, the generated manifests, the dashboards and the Terraform tests.

Everything that has to agree across those parts is defined here once and imported elsewhere, so a rename is a
one-line change that the manifests check turns into a reviewed diff.
"""

import datetime as dt
from typing import Final

APP_NAME: Final = "expense-tracker"
"""Kubernetes app name, container name, and the ``app.kubernetes.io/name`` label value."""


def app_namespace(environment: str) -> str:
    """The namespace one environment of the app runs in (the manifests place it there, the dashboards select it)."""
    return f"{APP_NAME}-{environment}"


HTTP_PORT: Final = 8000
HTTP_PORT_NAME: Final = "http"

# Paths the platform relies on (probes, scraping, ingress).
HEALTH_LIVE_PATH: Final = "/healthz"
HEALTH_READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
API_PREFIX: Final = "/api"
OPENAPI_PATH: Final = "/api/openapi.json"
API_DOCS_PATH: Final = "/api/docs"

READINESS_TIMEOUT_SECONDS: Final = 1.0

# Container layout shared by the Dockerfile and the generated Deployment: a fixed non-root user, a read-only root
# filesystem, and one writable temp directory (an emptyDir in the cluster) that also holds the multiprocess metrics.
CONTAINER_UID: Final = 10001
CONTAINER_GID: Final = 10001
CONTAINER_TMP_DIR: Final = "/tmp"  # noqa: S108 - an emptyDir mount, not a shared host /tmp
PROMETHEUS_MULTIPROC_DIR: Final = f"{CONTAINER_TMP_DIR}/prometheus-multiproc"

# Session / security.
SESSION_COOKIE: Final = "et_session"
CSRF_COOKIE: Final = "et_csrftoken"
CSRF_HEADER: Final = "x-csrftoken"
OAUTH_STATE_COOKIE: Final = "et_oauth"
REQUEST_ID_HEADER: Final = "X-Request-ID"

# Metric names (Prometheus). The HTTP RED metrics come from Litestar's middleware with this prefix.
METRICS_PREFIX: Final = "expense_tracker"
METRIC_HTTP_REQUESTS: Final = f"{METRICS_PREFIX}_requests_total"
METRIC_HTTP_ERRORS: Final = f"{METRICS_PREFIX}_requests_error_total"
METRIC_HTTP_DURATION: Final = f"{METRICS_PREFIX}_request_duration_seconds"
METRIC_HTTP_IN_PROGRESS: Final = f"{METRICS_PREFIX}_requests_in_progress"
METRIC_SIGN_INS: Final = f"{METRICS_PREFIX}_sign_ins_total"
METRIC_SIGN_IN_FAILURES: Final = f"{METRICS_PREFIX}_sign_in_failures_total"
METRIC_EXPENSES_CREATED: Final = f"{METRICS_PREFIX}_expenses_created_total"
METRIC_IMPORTS: Final = f"{METRICS_PREFIX}_imports_total"
METRIC_DB_POOL_IN_USE: Final = f"{METRICS_PREFIX}_db_pool_connections_in_use"
METRIC_DB_POOL_OPEN: Final = f"{METRICS_PREFIX}_db_pool_connections_open"
METRIC_DB_POOL_CAPACITY: Final = f"{METRICS_PREFIX}_db_pool_capacity"
METRIC_BUILD_INFO: Final = f"{METRICS_PREFIX}_build_info"
METRIC_ACTIVE_USERS: Final = f"{METRICS_PREFIX}_active_users"

# Active users: signed-in requests are recorded to within LAST_SEEN_RESOLUTION, counted over ACTIVE_USERS_WINDOW,
# and the gauge refreshed every ACTIVE_USERS_REFRESH_SECONDS by each worker (one cheap COUNT per minute).
LAST_SEEN_RESOLUTION: Final = dt.timedelta(minutes=5)
ACTIVE_USERS_WINDOW: Final = dt.timedelta(hours=24)
ACTIVE_USERS_REFRESH_SECONDS: Final = 60.0

# Limits from the API contract.
PAGE_SIZE_DEFAULT: Final = 50
PAGE_SIZE_MAX: Final = 200
JSON_BODY_MAX_BYTES: Final = 1024 * 1024
IMPORT_FILE_MAX_BYTES: Final = 5 * 1024 * 1024
IMPORT_MAX_ROWS: Final = 50_000
AMOUNT_MAX: Final = "999999999.99"

DEFAULT_CATEGORIES: Final = (
    ("Food", "#e4572e"),
    ("Transport", "#17bebb"),
    ("Housing", "#6c5ce7"),
    ("Utilities", "#ffc914"),
    ("Health", "#2e86ab"),
    ("Entertainment", "#e84393"),
    ("Shopping", "#76b041"),
    ("Other", "#7f8c8d"),
)

# A database outage answers 503 with this Retry-After: about how long a failover or a pod restart of PostgreSQL takes.
DATABASE_RETRY_AFTER_SECONDS: Final = 5

# Idempotency-Key on creates and imports: how long a stored first response answers retries, and the key's size.
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
IDEMPOTENCY_TTL: Final = dt.timedelta(hours=24)
IDEMPOTENCY_KEY_MAX: Final = 255

# Prometheus scrapes its own port, served by the ``expense-tracker run`` supervisor: the Service routes it, the
# Ingress never does, so metrics are not public. The app's public port answers 404 for ``METRICS_PATH``.
METRICS_PORT: Final = 9000
METRICS_PORT_NAME: Final = "metrics"
UNROUTED_ROUTE: Final = "<unrouted>"
"""Route label (metrics) and route field (access log) of a request no handler matched: never the raw path, whose
values are unbounded."""

# Input bounds (issue #10): beyond these the API answers 400 instead of passing the value to the database.
OFFSET_MAX: Final = 1_000_000
LIST_COUNT_CAP: Final = 1000
"""Expense listings filtered by text or amount count matching rows up to this many, then report "more than" it
(``total_capped``): an exact count there would read every row of the user. Other listings count exactly."""
REPORT_YEAR_MIN: Final = 1900
REPORT_YEAR_MAX: Final = 9998
"""``month=YYYY-MM`` on the budget report: 9999-12 has no following month for the date arithmetic to reach."""
JSON_MAX_DEPTH: Final = 32

# Bank-statement import wizard (domain/imports): how long an uploaded file waits for the next step, how many rows the
# preview shows, and the bounds of a saved per-bank profile's name.
IMPORT_UPLOAD_TTL: Final = dt.timedelta(hours=2)
IMPORT_PREVIEW_ROWS: Final = 50
IMPORT_PROFILE_NAME_MAX: Final = 100
