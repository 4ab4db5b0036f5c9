"""One check in front of every JSON-body route: JSON media type (415), bounded nesting and no duplicate keys (400)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Session
from tests.security.test_inputs import assert_problem

Client = AsyncTestClient[Litestar]
JSON = {"content-type": "application/json"}


async def expense_total(client: Client, user: Session) -> int:
    return int((await client.get("/api/expenses", headers=user.headers)).json()["total"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None, "application/jsonx"])
async def test_dev_login_refuses_non_json_bodies(client: Client, content_type: str | None) -> None:
    """A cross-site ``<form enctype="text/plain">`` cannot sign a victim in: the body must be declared JSON."""
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        "/auth/dev-login", content=b'{"email": "csrf@example.com", "name": "x"}', headers=headers
    )
    problem = assert_problem(response, 415)
    assert "application/json" in problem["detail"]
    assert "set-cookie" not in response.headers
    client.cookies.clear()


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_media_types_are_accepted(client: Client, user: Session, content_type: str) -> None:
    response = await client.post(
        "/api/expenses",
        content=b'{"title": "Tea", "amount": "2.00"}',
        headers={**user.headers, "content-type": content_type},
    )
    assert response.status_code == 201, response.text


async def test_text_plain_on_api_routes_is_415(client: Client, user: Session) -> None:
    body = b'{"title": "Tea", "amount": "2.00"}'
    headers = {**user.headers, "content-type": "text/plain"}
    assert_problem(await client.post("/api/expenses", content=body, headers=headers), 415)
    assert await expense_total(client, user) == 0


def nested(depth: int) -> bytes:
    """``{"title": [[...]]}`` with ``depth`` levels counting the outer object."""
    return b'{"title": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b', "amount": "1"}'


async def test_deeply_nested_bodies_are_400_not_500(client: Client, user: Session) -> None:
    for depth in (33, 10_000):
        response = await client.post("/api/expenses", content=nested(depth), headers={**user.headers, **JSON})
        problem = assert_problem(response, 400)
        assert "nest" in problem["detail"], problem
    bare = b"[" * 10_000 + b"]" * 10_000
    assert_problem(await client.post("/auth/dev-login", content=bare, headers=JSON), 400)
    # At the bound the body is parsed and refused by ordinary validation (title is not a list).
    at_bound = await client.post("/api/expenses", content=nested(32), headers={**user.headers, **JSON})
    problem = assert_problem(at_bound, 400, "title")
    assert "nest" not in problem["detail"]
    assert await expense_total(client, user) == 0


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"title": "a", "title": "b", "amount": "1"}', "title"),
        (b'{"title": "a", "amount": "1", "amount": "2"}', "amount"),
        (b'{"title": "a", "amount": "1", "notes": "", "extra": {"k": 1, "k": 2}}', "k"),
    ],
)
async def test_duplicate_keys_are_400_naming_the_key(client: Client, user: Session, body: bytes, key: str) -> None:
    response = await client.post("/api/expenses", content=body, headers={**user.headers, **JSON})
    problem = assert_problem(response, 400, key)
    assert "duplicate" in problem["detail"].lower()
    assert await expense_total(client, user) == 0


async def test_invalid_json_is_400(client: Client, user: Session) -> None:
    for body in (b'{"title": "a", ', b"[}", b"\xff\xfe"):
        assert_problem(await client.post("/api/expenses", content=body, headers={**user.headers, **JSON}), 400)


async def test_nul_anywhere_in_a_json_body_is_400_naming_the_field(client: Client, user: Session) -> None:
    body = b'{"currency": "USD", "theme": "dark", "timezone": "UTC\\u0000"}'
    assert_problem(await client.put("/api/settings", content=body, headers={**user.headers, **JSON}), 400, "timezone")


def json_body_routes(app: Litestar) -> list[tuple[str, str]]:
    from expense_tracker.lib.json_body import takes_json_body

    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if takes_json_body(handler):
                found.extend((method, route.path) for method in handler.http_methods)
    return sorted(found)


async def test_every_json_body_route_is_covered(client: Client, user: Session, app: Litestar) -> None:
    routes = json_body_routes(app)
    # The routes known today must all be found (so the detection itself is not silently empty) ...
    assert {
        ("POST", "/auth/dev-login"),
        ("POST", "/api/expenses"),
        ("PATCH", "/api/expenses/{expense_id:uuid}"),
        ("POST", "/api/categories"),
        ("PATCH", "/api/categories/{category_id:uuid}"),
        ("PUT", "/api/settings"),
    } <= set(routes)
    # ... and multipart import and HTML forms are not JSON routes.
    assert ("POST", "/api/expenses/import") not in routes
    assert ("POST", "/expenses") not in routes
    zero = "00000000-0000-0000-0000-000000000000"
    for method, path in routes:
        url = re.sub(r"\{\w+:uuid\}", zero, path)  # any id: the content type is refused before the lookup
        response = await client.request(
            method, url, content=b"{}", headers={**user.headers, "content-type": "text/plain"}
        )
        assert_problem(response, 415)
        client.cookies.clear()


async def test_multipart_import_and_html_forms_are_unaffected(client: Client, user: Session) -> None:
    files: dict[str, Any] = {"file": ("e.csv", b"title,amount,spent_on,currency,category\nTea,2,2024-01-01,USD,\n")}
    imported = await client.post("/api/expenses/import", files=files, headers=user.headers)
    assert imported.status_code == 201, imported.text


# Bodies that made the string-skipping regex backtrack quadratically: each took about an hour at 1 MiB.
ADVERSARIAL = {
    "unterminated escaped quotes": "body = b'\"' + b'\\\\\"' * 500_000",
    "unterminated string of backslashes": "body = b'{\"a\":\"' + b'\\\\\\\\' * 500_000",
}


@pytest.mark.parametrize("assignment", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_bodies_are_refused_without_hanging_the_worker(assignment: str) -> None:
    # Another process with a generous timeout: a hang detector (linear work takes ~0.1 s), not a timing budget.
    script = f"{assignment}\nfrom expense_tracker.lib.json_body import check_json\n"
    script += "try:\n    check_json(body)\nexcept ValueError as exc:\n    print(type(exc).__name__)\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "FieldValidationError"
