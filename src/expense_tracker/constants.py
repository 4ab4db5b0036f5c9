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
STORED_DECIMALS: Final = 2
"""Decimals ``expense.amount`` (NUMERIC(12, 2)) keeps: amounts with more are refused, never rounded."""

# Locales (CLDR ids, Babel). ``user_account.locale`` NULL means "follow the browser's Accept-Language"; a browser that
# asks for none of these gets DEFAULT_LOCALE, the formatting the app always had. Curated rather than all of CLDR:
# each one uses ASCII digits (what the amount parser accepts) and has a real chance of being someone's choice.
DEFAULT_LOCALE: Final = "en_US"
LOCALES: Final = (
    "en_US",
    "en_GB",
    "en_CA",
    "en_AU",
    "en_IE",
    "en_IN",
    "en_NZ",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "fr_BE",
    "fr_CA",
    "fr_CH",
    "it_IT",
    "es_ES",
    "es_MX",
    "es_AR",
    "pt_PT",
    "pt_BR",
    "nl_NL",
    "nl_BE",
    "da_DK",
    "sv_SE",
    "nb_NO",
    "fi_FI",
    "pl_PL",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
    "el_GR",
    "tr_TR",
    "uk_UA",
    "ru_RU",
    "ja_JP",
    "ko_KR",
    "zh_CN",
    "zh_TW",
)
TIMEZONE_REGIONS: Final = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
"""IANA's geographic regions, the groups of the time-zone choice (lib/timezones.py ``timezone_groups``)."""

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

# Exchange rates (issue 14): ``exchange_rate.rate`` is NUMERIC(18, 8), so at most 10 integer digits and 8 decimals.
RATE_DECIMALS: Final = 8
RATE_INTEGER_DIGITS: Final = 10
RATES_FILE_MAX_BYTES: Final = 1024 * 1024
RATES_MAX_ROWS: Final = 10_000
RATES_COLUMNS: Final = ("currency", "rate", "valid_from")
"""The rates CSV, export and import alike: ``currency,rate,valid_from`` (the base is the user's default currency)."""

# Currency choice (issue 14): the currency selects list the user's recent currencies first, read from the currencies
# of their latest RECENT_CURRENCIES_SCAN expenses (one bounded index read, whatever the history size).
RECENT_CURRENCIES_MAX: Final = 5
RECENT_CURRENCIES_SCAN: Final = 100
RATE_PERIOD_QUERIES_MAX: Final = 24  # measured: 13 monthly periods cost ~20 ms, the day sums ~60-130 ms (50k rows)
"""Converting a currency whose rate changes within a report period reads its sums once per rate period; beyond this
many periods (daily rates), once per day from the rows in a single statement instead."""
# Bank-statement import wizard (domain/imports): how long an uploaded file waits for the next step, how many rows the
# preview shows, and the bounds of a saved per-bank profile's name.
IMPORT_UPLOAD_TTL: Final = dt.timedelta(hours=2)
IMPORT_PREVIEW_ROWS: Final = 50
IMPORT_PROFILE_NAME_MAX: Final = 100

# Recurring expenses (issue 15): the scheduled job ``expense-tracker recurring run`` (a CronJob in the cluster) and
# the two gauges the web app's metrics endpoint reads from its ``job_run`` row; the CronJob, its alerts and the
# dashboard read the same names (alerts: failed, or stopped running).
RECURRING_JOB_NAME: Final = "recurring"
RECURRING_SCHEDULE_CRON: Final = "*/15 * * * *"
JOB_LAST_SUCCESS_METRIC: Final = f"{METRICS_PREFIX}_job_last_success_timestamp_seconds"
JOB_LAST_RUN_FAILED_METRIC: Final = f"{METRICS_PREFIX}_job_last_run_failed"
JOB_METRICS_CACHE_SECONDS: Final = 30.0
JOB_METRICS_SCRAPE_WAIT_SECONDS: Final = 2.0
"""How long a scrape waits for a due ``job_run`` read; a slower one (a loaded node, the first read importing
SQLAlchemy, a database outage) finishes in the background and the scrape answers the cached values meanwhile."""
"""A scrape reads ``job_run`` at most this often (per metrics server); in between it answers the cached values."""
RECURRING_CATCH_UP_MAX: Final = 100
"""Occurrences one run creates per schedule at most (a daily schedule started a year ago catches up over 4 runs)."""
RECURRING_UPCOMING_DAYS_MAX: Final = 366
DASHBOARD_UPCOMING_DAYS: Final = 14
# Trash and undo (issue 15).
TRASH_RETENTION: Final = dt.timedelta(days=30)
"""How long a deleted expense, category or schedule stays in the trash before ``purge_expired`` removes it."""
EDIT_UNDO_RETENTION: Final = dt.timedelta(days=1)
"""How long an edit can be undone: its snapshot only backs the "Undo" of the notice shown right after the edit."""
# Split payments (issue 15, slice "splits"): how many parts one payment may have, and how many part rows the split form
# shows at first (without JavaScript "Add a part" submits the form for one more row).
SPLIT_PARTS_MIN: Final = 2
SPLIT_PARTS_MAX: Final = 50
SPLIT_FORM_ROWS: Final = 3
