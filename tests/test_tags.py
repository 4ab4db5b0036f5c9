"""Tags (issue 15): created on the fly, unique per user ignoring case, rename, merge, delete, any/all filters, CSV,
the report by tag and isolation between users. API and pages, on PostgreSQL and SQLite (the ``client`` fixture)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.constants import SESSION_COOKIE
from tests.conftest import HTML, Session, sign_in

Client = AsyncTestClient[Litestar]
PROBLEM = "application/problem+json"


async def add(client: Client, user: Session, title: str, amount: str, tags: list[str], **extra: Any) -> dict[str, Any]:
    body = {"title": title, "amount": amount, "spent_on": "2026-03-10", "tags": tags, **extra}
    response = await client.post("/api/expenses", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def tags_of(client: Client, user: Session) -> dict[str, int]:
    response = await client.get("/api/tags", headers=user.headers)
    assert response.status_code == 200, response.text
    return {t["name"]: t["expense_count"] for t in response.json()}


async def tag_id(client: Client, user: Session, name: str) -> str:
    found = [t["id"] for t in (await client.get("/api/tags", headers=user.headers)).json() if t["name"] == name]
    assert len(found) == 1, (name, found)
    return str(found[0])


async def titles(client: Client, user: Session, query: str) -> list[str]:
    response = await client.get(f"/api/expenses?sort=spent_on&{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return sorted(e["title"] for e in response.json()["items"])


async def test_tags_are_created_on_the_fly_and_matched_ignoring_case(client: Client, user: Session) -> None:
    first = await add(client, user, "Dinner", "30.00", ["Food", " trip  2026 ", "food"])
    assert first["tags"] == ["Food", "trip 2026"]  # trimmed, inner spaces collapsed, "food" is "Food" once
    second = await add(client, user, "Lunch", "12.00", ["FOOD", "Trip 2026"])
    assert second["tags"] == ["Food", "trip 2026"]  # the stored spellings: no new tag for another case
    assert await tags_of(client, user) == {"Food": 2, "trip 2026": 2}
    read = await client.get(f"/api/expenses/{second['id']}", headers=user.headers)
    assert read.json()["tags"] == ["Food", "trip 2026"]
    listing = (await client.get("/api/expenses", headers=user.headers)).json()
    assert {e["title"]: e["tags"] for e in listing["items"]} == {
        "Dinner": ["Food", "trip 2026"],
        "Lunch": ["Food", "trip 2026"],
    }
    untagged = await add(client, user, "Bus", "2.40", [])
    assert untagged["tags"] == []


async def test_bad_tag_names_are_a_400_naming_tags(client: Client, user: Session) -> None:
    for tags in (["a,b"], ["x;y"], ["n" * 51], [f"t{i}" for i in range(21)], ["nul\x00"]):
        body = {"title": "T", "amount": "1.00", "tags": tags}
        response = await client.post("/api/expenses", json=body, headers=user.headers)
        assert response.status_code == 400, (tags, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "tags" in response.text
    assert await tags_of(client, user) == {}
    # 50 characters and 20 tags are fine.
    ok = await add(client, user, "T", "1.00", ["n" * 50, *(f"t{i:02}" for i in range(19))])
    assert len(ok["tags"]) == 20


async def test_patch_replaces_tags_and_leaves_them_when_absent(client: Client, user: Session) -> None:
    expense = await add(client, user, "Hotel", "80.00", ["trip", "work"])
    url = f"/api/expenses/{expense['id']}"
    renamed = await client.patch(url, json={"title": "Hotel Paris"}, headers=user.headers)
    assert renamed.json()["tags"] == ["trip", "work"]
    changed = await client.patch(url, json={"tags": ["Work", "refundable"]}, headers=user.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["refundable", "work"]
    assert await tags_of(client, user) == {"refundable": 1, "trip": 0, "work": 1}
    cleared = await client.patch(url, json={"tags": []}, headers=user.headers)
    assert cleared.json()["tags"] == []


async def test_create_rename_and_the_case_insensitive_clash(client: Client, user: Session) -> None:
    created = await client.post("/api/tags", json={"name": " Groceries "}, headers=user.headers)
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["expense_count"]) == ("Groceries", 0)
    again = await client.post("/api/tags", json={"name": "groceries"}, headers=user.headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    await add(client, user, "Apples", "3.00", ["Food"])
    food = await tag_id(client, user, "Food")
    groceries = created.json()["id"]
    clash = await client.patch(f"/api/tags/{groceries}", json={"name": "FOOD"}, headers=user.headers)
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith(PROBLEM)
    assert "'Food' already exists" in clash.json()["detail"]
    case_only = await client.patch(f"/api/tags/{food}", json={"name": "food"}, headers=user.headers)
    assert case_only.status_code == 200, case_only.text
    assert (case_only.json()["name"], case_only.json()["expense_count"]) == ("food", 1)
    bad = await client.patch(f"/api/tags/{food}", json={"name": "a;b"}, headers=user.headers)
    assert bad.status_code == 400
    assert await tags_of(client, user) == {"food": 1, "Groceries": 0}


async def test_merge_moves_expenses_without_duplicates_and_deletes_the_source(client: Client, user: Session) -> None:
    await add(client, user, "only A", "1.00", ["A"])
    both = await add(client, user, "both", "2.00", ["A", "B"])
    await add(client, user, "only B", "3.00", ["B"])
    a, b = await tag_id(client, user, "A"), await tag_id(client, user, "B")
    merged = await client.post(f"/api/tags/{a}/merge", json={"into": b}, headers=user.headers)
    assert merged.status_code == 200, merged.text
    assert (merged.json()["name"], merged.json()["expense_count"]) == ("B", 3)
    assert await tags_of(client, user) == {"B": 3}
    assert (await client.get(f"/api/tags/{a}", headers=user.headers)).status_code == 404
    read = await client.get(f"/api/expenses/{both['id']}", headers=user.headers)
    assert read.json()["tags"] == ["B"]  # once, not twice
    assert await titles(client, user, "tag=B") == ["both", "only A", "only B"]
    itself = await client.post(f"/api/tags/{b}/merge", json={"into": b}, headers=user.headers)
    assert itself.status_code == 400
    gone = await client.post(f"/api/tags/{b}/merge", json={"into": a}, headers=user.headers)
    assert gone.status_code == 400
    assert "into" in gone.text


async def test_delete_keeps_the_expenses(client: Client, user: Session) -> None:
    expense = await add(client, user, "Cinema", "11.00", ["fun", "friends"])
    fun = await tag_id(client, user, "fun")
    assert (await client.delete(f"/api/tags/{fun}", headers=user.headers)).status_code == 204
    read = await client.get(f"/api/expenses/{expense['id']}", headers=user.headers)
    assert read.status_code == 200
    assert (read.json()["title"], read.json()["amount"], read.json()["tags"]) == ("Cinema", "11.00", ["friends"])
    assert await tags_of(client, user) == {"friends": 1}
    assert (await client.delete(f"/api/tags/{fun}", headers=user.headers)).status_code == 404


async def test_filters_any_and_all_with_totals(client: Client, user: Session) -> None:
    await add(client, user, "e1", "10.00", ["food"])
    await add(client, user, "e2", "5.50", ["food", "trip"])
    await add(client, user, "e3", "7.25", ["Trip"])
    await add(client, user, "e4", "2.00", [])
    assert await titles(client, user, "tag=food") == ["e1", "e2"]
    assert await titles(client, user, "tag=FOOD&tag=trip") == ["e1", "e2", "e3"]
    assert await titles(client, user, "tag=food&tag=trip&tag_mode=any") == ["e1", "e2", "e3"]
    assert await titles(client, user, "tag=food&tag=trip&tag_mode=all") == ["e2"]
    assert await titles(client, user, "tag=nosuchtag") == []
    assert await titles(client, user, "tag=food&tag=nosuchtag&tag_mode=all") == []
    assert await titles(client, user, "tag=trip&min_amount=6") == ["e3"]
    page = (await client.get("/api/expenses?tag=food&tag=trip", headers=user.headers)).json()
    assert (page["total"], page["total_capped"]) == (3, False)
    totals = (await client.get("/api/expenses/totals?tag=trip&tag=food&tag_mode=any", headers=user.headers)).json()
    assert totals == {
        "count": 3,
        "count_capped": False,
        "currencies": [{"currency": "USD", "total": "22.75", "count": 3}],
    }
    totals = (await client.get("/api/expenses/totals?tag=trip&tag=food&tag_mode=all", headers=user.headers)).json()
    assert totals["currencies"] == [{"currency": "USD", "total": "5.50", "count": 1}]
    for bad in ("tag_mode=some&tag=food", "tag=a,b", f"tag={'x' * 51}"):
        response = await client.get(f"/api/expenses?{bad}", headers=user.headers)
        assert response.status_code == 400, (bad, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)


async def export_rows(client: Client, user: Session, query: str = "") -> list[dict[str, str]]:
    response = await client.get(f"/api/expenses/export.csv?{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def upload(client: Client, user: Session, content: str) -> Any:
    files = {"file": ("expenses.csv", content.encode(), "text/csv")}
    return await client.post("/api/expenses/import", files=files, headers=user.headers)


async def test_csv_round_trip_with_tags(client: Client, user: Session) -> None:
    await add(client, user, "Dinner", "30.00", ["food", "Trip"])
    await add(client, user, "Train", "20.00", ["trip"])
    await add(client, user, "Socks", "4.00", [])
    await add(client, user, "Formula", "1.00", ["=cmd"])  # a tag a spreadsheet would evaluate
    rows = await export_rows(client, user)
    assert {r["title"]: r["tags"] for r in rows} == {
        "Dinner": "food; Trip",
        "Train": "Trip",
        "Socks": "",
        "Formula": "'=cmd",
    }
    assert [r["title"] for r in await export_rows(client, user, "tag=food&tag=trip&tag_mode=all")] == ["Dinner"]
    text = (await client.get("/api/expenses/export.csv", headers=user.headers)).text

    newcomer = await sign_in(client)
    result = await upload(client, newcomer, text)
    assert result.status_code == 201, result.text
    assert result.json()["imported"] == 4
    again = {r["title"]: r["tags"] for r in await export_rows(client, newcomer)}
    assert again == {"Dinner": "food; Trip", "Train": "Trip", "Socks": "", "Formula": "'=cmd"}
    assert await tags_of(client, newcomer) == {"=cmd": 1, "food": 1, "Trip": 2}


async def test_csv_import_without_a_tags_column_and_with_bad_tags(client: Client, user: Session) -> None:
    plain = "title,amount,spent_on\nTea,2.50,2026-01-02\n"
    result = await upload(client, user, plain)
    assert result.status_code == 201, result.text
    assert [r["tags"] for r in await export_rows(client, user)] == [""]
    tagged = "title,amount,spent_on,tags\nA,1,2026-01-02, work ;WORK; x \nB,2,2026-01-03,\n"
    assert (await upload(client, user, tagged)).status_code == 201
    assert await tags_of(client, user) == {"work": 1, "x": 1}
    bad = f"title,amount,spent_on,tags\nC,1,2026-01-02,{'y' * 51}\n"
    refused = await upload(client, user, bad)
    assert refused.status_code == 400
    problem = {
        "row": 2,
        "field": "tags",
        "message": "each tag must be 1 to 50 characters (not “yyyyyyyyyyyyyyyyyyyy…”)",
    }
    assert problem in refused.json()["errors"]
    assert len(await export_rows(client, user)) == 3  # nothing of the refused file stored


async def test_report_by_tag_has_literal_figures_per_currency(client: Client, user: Session) -> None:
    await add(client, user, "e1", "10.00", ["food"])
    await add(client, user, "e2", "5.50", ["food", "trip"])
    await add(client, user, "e3", "7.25", ["trip"], currency="EUR")
    await add(client, user, "e4", "2.00", [])
    await add(client, user, "refund", "-1.50", ["food"])
    await add(client, user, "outside", "99.00", ["food"], spent_on="2026-04-01")
    response = await client.get("/api/reports/by-tag?from=2026-03-01&to=2026-03-31", headers=user.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"]) == ("2026-03-01", "2026-03-31")
    assert [(t["name"], t["currency"], t["total"], t["count"]) for t in report["tags"]] == [
        ("trip", "EUR", "7.25", 1),
        ("food", "USD", "14.00", 3),  # 10.00 + 5.50 - 1.50: the refund reduces it
        ("trip", "USD", "5.50", 1),  # e2 counts under both of its tags
    ]
    assert report["untagged"] == [{"currency": "USD", "total": "2.00", "count": 1}]
    bad = await client.get("/api/reports/by-tag?from=2026-03-31&to=2026-03-01", headers=user.headers)
    assert bad.status_code == 400


async def test_another_users_tags_are_never_visible_or_usable(
    client: Client, user: Session, other_user: Session
) -> None:
    mine = await add(client, user, "Mine", "5.00", ["secret"])
    secret = await tag_id(client, user, "secret")
    assert await tags_of(client, other_user) == {}
    assert await titles(client, other_user, "tag=secret") == []
    for response in (
        await client.get(f"/api/tags/{secret}", headers=other_user.headers),
        await client.patch(f"/api/tags/{secret}", json={"name": "mine now"}, headers=other_user.headers),
        await client.delete(f"/api/tags/{secret}", headers=other_user.headers),
    ):
        assert response.status_code == 404, response.text
    await add(client, other_user, "Theirs", "1.00", ["Secret"])  # their own tag of the same name
    theirs = await tag_id(client, other_user, "Secret")
    assert theirs != secret
    into_mine = await client.post(f"/api/tags/{theirs}/merge", json={"into": secret}, headers=other_user.headers)
    assert into_mine.status_code == 400
    mine_into = await client.post(f"/api/tags/{secret}/merge", json={"into": theirs}, headers=other_user.headers)
    assert mine_into.status_code == 404
    report = (await client.get("/api/reports/by-tag?from=2026-03-01&to=2026-03-31", headers=other_user.headers)).json()
    assert [(t["name"], t["total"]) for t in report["tags"]] == [("Secret", "1.00")]
    assert await tags_of(client, user) == {"secret": 1}
    assert (await client.get(f"/api/expenses/{mine['id']}", headers=user.headers)).json()["tags"] == ["secret"]


async def test_openapi_documents_the_tag_fields(client: Client) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    components = schema["components"]["schemas"]
    for name in ("ExpenseRead", "ExpenseCreate", "ExpenseUpdate"):
        assert "tags" in components[name]["properties"], name
    parameters = {p["name"] for p in schema["paths"]["/api/expenses"]["get"]["parameters"]}
    assert {"tag", "tag_mode"} <= parameters
    assert "/api/tags/{tag_id}/merge" in schema["paths"]
    assert "/api/reports/by-tag" in schema["paths"]


# --- pages ---


async def page(client: Client, user: Session, path: str) -> str:
    client.cookies.set(SESSION_COOKIE, user.token)
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, (path, response.text[:500])
    return response.text


async def post_form(client: Client, user: Session, path: str, data: dict[str, str]) -> Any:
    await page(client, user, "/tags")  # receives the CSRF cookie
    token = client.cookies.get("et_csrftoken")
    return await client.post(path, data={**data, "_csrf_token": token or ""}, headers=HTML)


async def test_expense_form_takes_comma_separated_tags(client: Client, user: Session) -> None:
    await add(client, user, "Earlier", "1.00", ["Holiday"])
    form = await page(client, user, "/expenses/new")
    assert 'name="tags"' in form
    assert '<datalist id="tag-names"><option value="Holiday"></datalist>' in form
    body = {"title": "Museum", "amount": "12.00", "currency": "USD", "spent_on": "2026-03-10", "tags": "holiday, art"}
    created = await post_form(client, user, "/expenses", body)
    assert created.status_code == 303, created.text[:500]
    listing = (await client.get("/api/expenses?tag=art", headers=user.headers)).json()
    assert [(e["title"], e["tags"]) for e in listing["items"]] == [("Museum", ["art", "Holiday"])]
    expense_id = listing["items"][0]["id"]
    edit = await page(client, user, f"/expenses/{expense_id}/edit")
    assert re.search(r'name="tags"[^>]*value="art, Holiday"', edit) or 'value="art, Holiday"' in edit
    bad = await post_form(client, user, "/expenses", {**body, "tags": "x" * 51})
    assert bad.status_code == 400
    assert "Each tag must be 1 to 50 characters (not “xxxxxxxxxxxxxxxxxxxx…”)" in bad.text
    assert 'aria-invalid="true" aria-describedby="f-e-tags"' in bad.text
    # A form without the tags field (an older page) leaves the tags alone.
    saved = await post_form(
        client,
        user,
        f"/expenses/{expense_id}",
        {"title": "Museum", "amount": "13.00", "currency": "USD", "spent_on": "2026-03-10"},
    )
    assert saved.status_code == 303, re.findall(r"class=\"error\"[^>]*>([^<]*)", saved.text)
    read = (await client.get(f"/api/expenses/{expense_id}", headers=user.headers)).json()
    assert (read["amount"], read["tags"]) == ("13.00", ["art", "Holiday"])
    client.cookies.clear()


async def test_expenses_page_filters_by_tags(client: Client, user: Session) -> None:
    await add(client, user, "e1", "10.00", ["food"])
    await add(client, user, "e2", "5.50", ["food", "trip"])
    await add(client, user, "e3", "7.25", ["trip"])
    html = await page(client, user, "/expenses?tag=food&tag=trip&tag_mode=all")
    # The row's title (the ui slice's phone cards put it in a span of its own).
    what = r'<td data-label="What"[^>]*>(?:<span class="c-title">)?(\w+)'
    assert re.findall(r'data-expense-id="[^"]+">\s*<td data-label="Date"[^>]*>[^<]*</td>\s*' + what, html) == ["e2"]
    assert re.findall(what, html) == ["e2"]
    assert re.search(r'<input id="ft-\d+" type="checkbox" name="tag" value="food" checked>', html)
    assert re.search(r'<input id="ft-\d+" type="checkbox" name="tag" value="trip" checked>', html)
    assert '<option value="all" selected>' in html
    assert "/api/expenses/export.csv?tag=food&amp;tag=trip&amp;tag_mode=all" in html
    assert '<a class="tag" href="/expenses?tag=food">food</a>' in html
    html = await page(client, user, "/expenses?tag=TRIP")
    assert re.findall(what, html) == ["e3", "e2"]
    client.cookies.set(SESSION_COOKIE, user.token)
    bad = await client.get("/expenses?tag_mode=most", headers=HTML)
    assert bad.status_code == 400
    assert "Must be one of any, all" in bad.text
    client.cookies.clear()


async def test_tags_page_renames_merges_and_deletes_with_errors_inline(client: Client, user: Session) -> None:
    await add(client, user, "e1", "10.00", ["food"])
    await add(client, user, "e2", "5.50", ["Groceries", "food"])
    html = await page(client, user, "/tags")
    assert '<li data-tag="food">' in html
    assert "2 expenses" in html
    food, groceries = await tag_id(client, user, "food"), await tag_id(client, user, "Groceries")
    clash = await post_form(client, user, f"/tags/{groceries}", {"name": "FOOD"})
    assert clash.status_code == 400
    assert "A tag named &#39;food&#39; already exists. Merge into it instead." in clash.text
    assert 'aria-invalid="true"' in clash.text
    renamed = await post_form(client, user, f"/tags/{groceries}", {"name": "Supermarket"})
    assert (renamed.status_code, renamed.headers["location"]) == (303, "/tags?msg=tag-renamed")
    no_target = await post_form(client, user, f"/tags/{groceries}/merge", {"into": ""})
    assert no_target.status_code == 400
    assert "Choose the tag to merge into." in no_target.text
    merged = await post_form(client, user, f"/tags/{groceries}/merge", {"into": food})
    assert merged.status_code == 303
    assert await tags_of(client, user) == {"food": 2}
    empty = await post_form(client, user, "/tags", {"name": " "})
    assert empty.status_code == 400
    assert "Must be 1 to 50 characters" in empty.text
    added = await post_form(client, user, "/tags", {"name": "later"})
    assert added.status_code == 303
    deleted = await post_form(client, user, f"/tags/{food}/delete", {})
    assert deleted.status_code == 303
    assert await tags_of(client, user) == {"later": 0}
    assert len((await client.get("/api/expenses", headers=user.headers)).json()["items"]) == 2
    client.cookies.clear()


async def test_reports_page_has_the_tag_section(client: Client, user: Session) -> None:
    await add(client, user, "e2", "5.50", ["food", "trip"])
    html = await page(client, user, "/reports?from=2026-03-01&to=2026-03-31")
    assert "counts once under each of them" in html
    table = html[html.index('data-testid="tag-table"') :]
    table = table[: table.index("</table>")]
    assert re.findall(r'<a class="tag"[^>]*>(\w+)</a></th><td>(\w+)</td><td class="num">(\d+)</td>', table) == [
        ("food", "USD", "1"),
        ("trip", "USD", "1"),
    ]
    client.cookies.clear()
