"""The HTML side without a browser: headers, CSRF in every form, redirects to sign-in, friendly errors, assets."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from expense_tracker.domain.web import asset_versions
from expense_tracker.lib.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import HTML, Session

Client = AsyncTestClient[Litestar]
PAGES = [
    "/",
    "/expenses",
    "/expenses/new",
    "/categories",
    "/reports",
    "/import",
    "/settings",
    "/rates",
    "/tags",
    "/splits/new",
]


async def browse(client: Client, user: Session, path: str) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_every_page_has_security_headers_and_csrf_in_every_form(client: Client, user: Session) -> None:
    await client.post("/api/expenses", json={"title": "Tea", "amount": "2"}, headers=user.headers)
    for path in PAGES:
        client.cookies.set(SESSION_COOKIE, user.token)
        response = await client.get(path, headers=HTML)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        html = response.text
        for inline in ("<script>", "onclick=", 'style="'):
            assert inline not in html, (path, inline)
        post_forms = re.findall(r'<form method="post".*?</form>', html, re.DOTALL)
        assert post_forms, path
        for form in post_forms:
            assert 'name="_csrf_token"' in form, (path, form[:200])
    client.cookies.clear()


async def test_signed_out_pages_redirect_to_sign_in_and_back(client: Client) -> None:
    client.cookies.clear()
    response = await client.get("/expenses?q=tea", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fexpenses%3Fq%3Dtea"
    assert (await client.get("/login", headers=HTML)).status_code == 200


async def test_friendly_error_pages_leak_nothing(client: Client, user: Session) -> None:
    client.cookies.set(SESSION_COOKIE, user.token)
    missing = await client.get("/expenses/00000000-0000-0000-0000-000000000000/edit", headers=HTML)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text
    unknown = await client.get("/no/such/page", headers=HTML)
    assert unknown.status_code == 404
    assert "Page not found" in unknown.text
    bad_filter = await client.get("/expenses?from=someday", headers=HTML)
    assert bad_filter.status_code == 400
    assert "Must be a date as YYYY-MM-DD" in bad_filter.text  # next to the field, in the filter form
    client.cookies.clear()


async def test_form_post_without_csrf_token_is_refused(client: Client, user: Session) -> None:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.post("/expenses", data={"title": "x", "amount": "1"}, headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    client.cookies.clear()
    listing = await client.get("/api/expenses", headers=user.headers)
    assert listing.json()["total"] == 0


async def test_another_users_expense_is_a_404_page(client: Client, user: Session, other_user: Session) -> None:
    created = await client.post("/api/expenses", json={"title": "Mine", "amount": "5"}, headers=user.headers)
    expense_id = created.json()["id"]
    client.cookies.set(SESSION_COOKIE, other_user.token)
    await client.get("/expenses", headers=HTML)  # receives the CSRF cookie
    token = client.cookies.get("et_csrftoken")
    for response in (
        await client.get(f"/expenses/{expense_id}/edit", headers=HTML),
        await client.post(
            f"/expenses/{expense_id}", data={"title": "Stolen", "amount": "1", "_csrf_token": token}, headers=HTML
        ),
        await client.post(
            f"/expenses/{expense_id}/delete", data={"confirm": "yes", "_csrf_token": token}, headers=HTML
        ),
    ):
        assert response.status_code == 404
    client.cookies.clear()
    assert (await client.get(f"/api/expenses/{expense_id}", headers=user.headers)).json()["title"] == "Mine"


async def test_static_assets_are_fingerprinted_and_cached_for_a_year(client: Client, user: Session) -> None:
    html = await browse(client, user, "/")
    client.cookies.clear()
    css = re.search(r'href="(/static/app\.css\?v=([0-9a-f]{12}))"', html)
    assert css
    assert css.group(2) == asset_versions()["app.css"]
    response = await client.get(css.group(1))
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]
    assert len(response.content) < 20_000  # no framework bundle


async def test_pages_render_in_a_handful_of_queries(client: Client, user: Session, app: Litestar) -> None:
    """No N+1: the statements a page runs do not grow with the number of expenses shown."""
    from sqlalchemy import event

    engine = app.state.alchemy.get_engine().sync_engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async def queries(path: str) -> int:
        statements.clear()
        await browse(client, user, path)
        return len(statements)

    event.listen(engine, "before_cursor_execute", count)
    try:
        # More than one list page (25) in both rounds: a listing that fits one page skips its count query.
        for i in range(26):
            await client.post("/api/expenses", json={"title": f"d{i}", "amount": "1"}, headers=user.headers)
        few = {path: await queries(path) for path in ("/", "/expenses", "/reports")}
        for i in range(30):
            await client.post("/api/expenses", json={"title": f"e{i}", "amount": "1"}, headers=user.headers)
        many = {path: await queries(path) for path in ("/", "/expenses", "/reports")}
    finally:
        event.remove(engine, "before_cursor_execute", count)
        client.cookies.clear()
    assert few == many
    assert max(many.values()) <= 10, many
