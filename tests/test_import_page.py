"""The browser's import form runs the same pipeline as the API: same checks, same all-or-nothing result."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]


async def post_file(client: Client, user: Session, content: bytes | None) -> tuple[int, str]:
    client.cookies.set(SESSION_COOKIE, user.token)
    try:
        assert (await client.get("/import", headers=HTML)).status_code == 200  # receives the CSRF cookie
        data = {"_csrf_token": client.cookies.get("et_csrftoken") or ""}
        files = {"file": ("e.csv", content, "text/csv")} if content is not None else {"file": ("", b"", "text/csv")}
        response = await client.post("/import", data=data, files=files, headers=HTML)
    finally:
        client.cookies.clear()
    return response.status_code, response.text


async def test_import_page_success_and_row_errors(client: Client, user: Session) -> None:
    status, page = await post_file(client, user, b"title,amount,spent_on,category\nBus,2.5,2024-02-01,Transit\n")
    assert status == 200
    assert "Imported 1 expense." in page
    assert "New categories: Transit." in page
    status, page = await post_file(client, user, b"title,amount,spent_on\nnu\x00l,1,2024-02-02\n")
    assert status == 400
    assert "must not contain NUL characters" in page
    assert (await client.get("/api/expenses", headers=user.headers)).json()["total"] == 1


async def test_import_page_without_a_file(client: Client, user: Session) -> None:
    status, page = await post_file(client, user, None)
    assert status == 400
    assert "Choose a CSV file to import." in page
