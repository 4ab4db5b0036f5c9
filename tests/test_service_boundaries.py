"""Services own every query and side effect (issue #12): controllers and pages only translate HTTP to service calls.

Two halves. The structural one reads the source of every API controller and HTML page and refuses SQL, metric
increments, hand-built services and imports from another domain's controllers. The behavioural one performs each
user action once, through the API and through the pages, and checks that the business counters moved by exactly the
expected amounts and no others: a pipeline written twice, or an increment left in a handler next to the service's,
shows up as a count of 2.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session, sign_in

Client = AsyncTestClient[Litestar]

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "expense_tracker"
DOMAIN = PACKAGE / "domain"
# Method names that run SQL or drive a session directly (SQLAlchemy AsyncSession / AsyncConnection API).
SQL_CALLS = {"execute", "scalar", "scalars", "scalar_one", "stream", "get_session", "flush", "add", "add_all", "commit"}


def handler_modules() -> list[Path]:
    """Every module that turns HTTP into calls: the API controllers of each domain and all HTML page modules."""
    found = sorted(DOMAIN.glob("*/controllers.py")) + sorted(
        p for p in (DOMAIN / "web").glob("*.py") if p.name != "__init__.py"
    )
    assert len(found) >= 10, found  # six controllers.py + the page modules: the glob must not silently find nothing
    return found


def annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside a type annotation (parameters, returns, annotated assignments)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root)}


def import_violations(node: ast.ImportFrom | ast.Import, own_domain: str) -> Iterator[str]:
    modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    names = {a.asname or a.name for a in node.names}
    for module in modules:
        if module == "sqlalchemy" or module.startswith("sqlalchemy."):
            yield f"line {node.lineno}: imports {module} ({', '.join(sorted(names))})"
        if module == "expense_tracker.lib.metrics" or (module == "expense_tracker.lib" and "metrics" in names):
            yield f"line {node.lineno}: imports the metrics (side effects belong in services)"
        parts = module.split(".")
        if parts[:2] == ["expense_tracker", "domain"] and parts[-1] == "controllers" and parts[2] != own_domain:
            yield f"line {node.lineno}: imports from another domain's controllers ({module})"


def call_violations(node: ast.Call) -> Iterator[str]:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in SQL_CALLS:
        yield f"line {node.lineno}: calls .{func.attr}() (SQL or session work)"
    if isinstance(func, ast.Name) and func.id.endswith("Service"):
        yield f"line {node.lineno}: builds {func.id}(...) by hand instead of having it injected"


def violations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    models: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            yield from import_violations(node, path.parent.name)
            if isinstance(node, ast.ImportFrom) and node.module == "expense_tracker.db.models":
                models |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Call):
            yield from call_violations(node)
        elif isinstance(node, ast.arg) and node.arg == "db_session":
            yield f"line {node.lineno}: takes the database session"
    in_annotation = annotation_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in models and id(node) not in in_annotation:
            yield f"line {node.lineno}: uses the model {node.id} outside a type annotation"


@pytest.mark.parametrize("path", handler_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_handlers_hold_no_queries_and_no_side_effects(path: Path) -> None:
    assert list(violations(path)) == []


def test_the_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    """The checker itself: each forbidden construct, planted in a fake page, is reported."""
    page = tmp_path / "web" / "planted.py"
    page.parent.mkdir()
    page.write_text(
        "from sqlalchemy import select\n"
        "from expense_tracker.db.models import Expense, User\n"
        "from expense_tracker.lib import metrics\n"
        "from expense_tracker.domain.expenses.controllers import provide_filters\n"
        "from expense_tracker.domain.reports.services import ReportService\n"
        "async def page(user: User, db_session: object) -> None:\n"
        "    await db_session.scalar(select(Expense.id))\n"
        "    ReportService(db_session)\n"
        "    metrics.IMPORTS.labels(outcome='success').inc()\n"
    )
    found = "\n".join(violations(page))
    for expected in (
        "imports sqlalchemy",
        "imports the metrics",
        "another domain's controllers",
        "calls .scalar()",
        "builds ReportService(...)",
        "takes the database session",
        "uses the model Expense",
    ):
        assert expected in found, expected
    assert "model User" not in found  # a type annotation is allowed


# --- behaviour: each action counts once -------------------------------------------------------------------------

FAMILIES = (
    "expense_tracker_sign_ins_total",
    "expense_tracker_sign_in_failures_total",
    "expense_tracker_expenses_created_total",
    "expense_tracker_imports_total",
)
GOOD_CSV = b"title,amount,spent_on,category\nBus,2.50,2024-02-01,Transit\nTea,1.20,2024-02-02,\n"
BAD_CSV = b"title,amount,spent_on\nBus,not-a-number,2024-02-01\n"
TOO_LARGE = b"title,amount\n" + b"x" * (5 * 1024 * 1024)  # 5 MiB, the documented import limit, plus the header


def counters() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name in FAMILIES:
                values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def changes(before: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    after = counters()
    moved = {}
    for key, value in after.items():
        delta = value - before.get(key, 0.0)
        if delta:
            name, labels = key
            moved[name.removeprefix("expense_tracker_") + "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"] = delta
    return moved


async def page_post(client: Client, user: Session, form_page: str, path: str, **kwargs: object) -> int:
    """Submit a form as the browser does: session cookie, the CSRF cookie from the form page, the token field."""
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get(form_page, headers=HTML)).status_code == 200
        data = {**dict(kwargs.pop("data", {}) or {}), "_csrf_token": client.cookies.get("et_csrftoken") or ""}
        response = await client.post(path, data=data, headers=HTML, **kwargs)  # type: ignore[arg-type]
    finally:
        client.cookies.clear()
    return response.status_code


async def test_creating_an_expense_counts_once_per_channel(client: Client, user: Session) -> None:
    before = counters()
    created = await client.post("/api/expenses", json={"title": "Tea", "amount": "2"}, headers=user.headers)
    assert created.status_code == 201
    assert changes(before) == {"expenses_created_total{source=api}": 1}

    before = counters()
    form = {"title": "Bus", "amount": "2.50", "next": "/expenses"}
    assert await page_post(client, user, "/expenses/new", "/expenses", data=form) == 303
    assert changes(before) == {"expenses_created_total{source=ui}": 1}

    before = counters()  # an idempotent retry replays the first response: the expense exists, and counts, once
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    for _ in range(2):
        response = await client.post("/api/expenses", json={"title": "Once", "amount": "3"}, headers=headers)
        assert response.status_code == 201
    assert changes(before) == {"expenses_created_total{source=api}": 1}


@pytest.mark.parametrize(
    ("content", "api_status", "page_status", "expected"),
    [
        (GOOD_CSV, 201, 200, {"imports_total{outcome=success}": 1, "expenses_created_total{source=import}": 2}),
        (BAD_CSV, 400, 400, {"imports_total{outcome=rejected}": 1}),
        (TOO_LARGE, 413, 413, {"imports_total{outcome=rejected}": 1}),
    ],
    ids=["stored", "rejected", "too-large"],
)
async def test_an_import_counts_once_through_the_api_and_through_the_page(
    client: Client, user: Session, content: bytes, api_status: int, page_status: int, expected: dict[str, float]
) -> None:
    before = counters()
    files = {"file": ("e.csv", content, "text/csv")}
    assert (await client.post("/api/expenses/import", files=files, headers=user.headers)).status_code == api_status
    assert changes(before) == expected

    before = counters()
    assert await page_post(client, user, "/import", "/import", files=files) == page_status
    assert changes(before) == expected


async def test_sign_ins_count_once(client: Client) -> None:
    before = counters()
    await sign_in(client)
    assert changes(before) == {"sign_ins_total{provider=dev}": 1}

    before = counters()
    client.cookies.clear()
    assert (await client.get("/login", headers=HTML)).status_code == 200
    form = {"email": f"page-{uuid.uuid4().hex[:8]}@example.com", "name": "Pat", "next": "/"}
    form["_csrf_token"] = client.cookies.get("et_csrftoken") or ""
    response = await client.post("/login/dev", data=form, headers=HTML)
    client.cookies.clear()
    assert response.status_code == 303
    assert changes(before) == {"sign_ins_total{provider=dev}": 1}

    before = counters()  # a callback without the state cookie is refused, and counted as such, once
    response = await client.get("/auth/google/callback", params={"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert changes(before) == {"sign_in_failures_total{provider=google,reason=bad_state}": 1}
