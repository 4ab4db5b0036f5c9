"""Isolation matrix: a second user can neither see nor touch the first user's data, on any route.

Every case runs on a fresh PostgreSQL database, so nothing left over from another case can make it pass. The victim's
data carries unique marker strings and amounts that must never appear in the attacker's responses, and a foreign id
must be answered exactly like an id that does not exist (same status, same body once the id itself is blanked).
``test_every_route_is_in_the_matrix`` enumerates the app's routes: a new route fails the suite until it is added to
the matrix or to ``EXEMPT`` with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.app import create_app
from expense_tracker.constants import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import HTML, Session, make_settings, sign_in

Client = AsyncTestClient[Litestar]
TODAY = dt.date.today().isoformat()  # both users are in UTC; the reports default to this month
VICTIM_AMOUNT = "313131.31"
VICTIM_BUDGET = "424242.42"
ATTACKER_AMOUNT = "1.11"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CSRF_VALUE = re.compile(r'(name="_csrf_token" value=")[0-9a-f]+')  # a fresh token per session


@dataclass
class World:
    client: Client
    victim: Session
    attacker: Session
    victim_expense: str
    victim_category: str
    attacker_expense: str
    attacker_category: str
    markers: list[str] = field(default_factory=list)
    attacker_marker: str = ""

    async def as_attacker(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies.clear()
        headers = {**self.attacker.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def page(self, method: str, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        """As the attacker's browser: session cookie, and the CSRF token from a page for a POST."""
        self.client.cookies.clear()
        self.client.cookies.set(SESSION_COOKIE, self.attacker.token)
        try:
            if method == "GET":
                return await self.client.get(url, headers=HTML)
            await self.client.get("/", headers=HTML)
            form = {**(data or {}), "_csrf_token": self.client.cookies.get(CSRF_COOKIE) or ""}
            return await self.client.post(url, data=form, headers=HTML)
        finally:
            self.client.cookies.clear()

    def assert_clean(self, response: httpx.Response) -> None:
        for marker in self.markers:
            assert marker not in response.text, (response.request.url, marker)

    async def assert_victim_intact(self) -> None:
        client, headers = self.client, self.victim.headers
        client.cookies.clear()
        expense = (await client.get(f"/api/expenses/{self.victim_expense}", headers=headers)).json()
        assert (expense["amount"], expense["category_id"]) == (VICTIM_AMOUNT, self.victim_category), expense
        assert expense["title"] in self.markers
        category = (await client.get(f"/api/categories/{self.victim_category}", headers=headers)).json()
        assert category["monthly_budget"] == VICTIM_BUDGET
        assert category["name"] in self.markers


@pytest.fixture
async def world(database_factory: Any) -> AsyncIterator[World]:
    url: str = await database_factory("postgresql")
    async with AsyncTestClient(app=create_app(make_settings(url)), base_url="http://testserver.local") as client:
        client.follow_redirects = False
        victim = await sign_in(client, name="Victim")
        attacker = await sign_in(client, name="Attacker")
        tag = uuid.uuid4().hex[:8]
        cat_name, title, notes = f"VCAT{tag}", f"VEXP{tag}", f"VNOTE{tag}"
        category = await client.post(
            "/api/categories", json={"name": cat_name, "monthly_budget": VICTIM_BUDGET}, headers=victim.headers
        )
        expense = await client.post(
            "/api/expenses",
            json={
                "title": title,
                "amount": VICTIM_AMOUNT,
                "notes": notes,
                "category_id": category.json()["id"],
                "spent_on": TODAY,
            },
            headers=victim.headers,
        )
        own_category = await client.post("/api/categories", json={"name": f"ACAT{tag}"}, headers=attacker.headers)
        own = await client.post(
            "/api/expenses",
            json={"title": f"AEXP{tag}", "amount": ATTACKER_AMOUNT, "category_id": own_category.json()["id"]},
            headers=attacker.headers,
        )
        assert {category.status_code, expense.status_code, own_category.status_code, own.status_code} == {201}
        yield World(
            client=client,
            victim=victim,
            attacker=attacker,
            victim_expense=expense.json()["id"],
            victim_category=category.json()["id"],
            attacker_expense=own.json()["id"],
            attacker_category=own_category.json()["id"],
            markers=[cat_name, title, notes, VICTIM_AMOUNT, VICTIM_BUDGET, "313131", victim.email],
            attacker_marker=f"AEXP{tag}",
        )


def blank_ids(text: str) -> str:
    return _CSRF_VALUE.sub(r"\1<token>", _UUID.sub("<id>", text))


async def same_as_missing(w: World, send: Callable[[str], Awaitable[httpx.Response]], status: int) -> None:
    """``send(id)`` with the victim's id and with an id nobody has: identical answers, and nothing changed."""
    foreign = await send("FOREIGN")
    missing = await send("MISSING")
    assert foreign.status_code == status, foreign.text[:500]
    assert (missing.status_code, blank_ids(missing.text)) == (foreign.status_code, blank_ids(foreign.text))
    assert foreign.headers["content-type"] == missing.headers["content-type"]
    w.assert_clean(foreign)
    await w.assert_victim_intact()


def ids(w: World, which: str, kind: str) -> str:
    if which == "MISSING":
        return str(uuid.uuid4())
    return w.victim_expense if kind == "expense" else w.victim_category


Route = tuple[str, str]
CaseFn = Callable[[World], Awaitable[None]]
CASES: dict[str, tuple[list[Route], CaseFn]] = {}


def case(*routes: Route) -> Callable[[CaseFn], CaseFn]:
    def register(fn: CaseFn) -> CaseFn:
        CASES[fn.__name__] = (list(routes), fn)
        return fn

    return register


E = "/api/expenses/{expense_id:uuid}"
C = "/api/categories/{category_id:uuid}"


@case(("GET", E))
async def get_expense(w: World) -> None:
    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/expenses/{ids(w, x, 'expense')}"), 404)


@case(("PATCH", E))
async def patch_expense(w: World) -> None:
    body = {"title": "pwned", "amount": "1.00"}
    await same_as_missing(w, lambda x: w.as_attacker("PATCH", f"/api/expenses/{ids(w, x, 'expense')}", json=body), 404)


@case(("DELETE", E))
async def delete_expense(w: World) -> None:
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/expenses/{ids(w, x, 'expense')}"), 404)


@case(("GET", C))
async def get_category(w: World) -> None:
    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/categories/{ids(w, x, 'category')}"), 404)


@case(("PATCH", C))
async def patch_category(w: World) -> None:
    body = {"name": "pwned", "monthly_budget": "1.00"}
    await same_as_missing(
        w, lambda x: w.as_attacker("PATCH", f"/api/categories/{ids(w, x, 'category')}", json=body), 404
    )


@case(("DELETE", C))
async def delete_category(w: World) -> None:
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/categories/{ids(w, x, 'category')}"), 404)


@case()
async def delete_own_category_into_a_foreign_one(w: World) -> None:
    """``reassign_to`` with the victim's category must not move the attacker's expenses into it."""
    url = f"/api/categories/{w.attacker_category}"
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", url, params={"reassign_to": ids(w, x, "category")}), 400)
    still = await w.as_attacker("GET", f"/api/expenses/{w.attacker_expense}")
    assert still.json()["category_id"] == w.attacker_category


@case(("POST", "/api/expenses"))
async def create_expense_in_a_foreign_category(w: World) -> None:
    def send(x: str) -> Awaitable[httpx.Response]:
        body = {"title": "in yours", "amount": "2.00", "category_id": ids(w, x, "category")}
        return w.as_attacker("POST", "/api/expenses", json=body)

    await same_as_missing(w, send, 400)
    assert (await w.as_attacker("GET", "/api/expenses")).json()["total"] == 1


@case()
async def move_own_expense_into_a_foreign_category(w: World) -> None:
    def send(x: str) -> Awaitable[httpx.Response]:
        body = {"category_id": ids(w, x, "category")}
        return w.as_attacker("PATCH", f"/api/expenses/{w.attacker_expense}", json=body)

    await same_as_missing(w, send, 400)


@case(("POST", "/api/categories"))
async def create_a_category_named_like_a_foreign_one(w: World) -> None:
    """Names are unique per user: the victim's name is free for the attacker (no 409 revealing it exists)."""
    name = w.markers[0]
    created = await w.as_attacker("POST", "/api/categories", json={"name": name})
    assert created.status_code == 201, created.text
    assert created.json()["id"] != w.victim_category
    await w.assert_victim_intact()


@case(("POST", "/api/expenses/import"))
async def import_into_a_category_named_like_a_foreign_one(w: World) -> None:
    csv = f"title,amount,spent_on,category\nimported,3.00,{TODAY},{w.markers[0]}\n"
    response = await w.as_attacker("POST", "/api/expenses/import", files={"file": ("e.csv", csv.encode())})
    assert response.status_code == 201, response.text
    assert response.json()["categories_created"] == [w.markers[0]]  # a new category of the attacker's own
    listing = (await w.as_attacker("GET", "/api/expenses", params={"q": "imported"})).json()
    assert listing["items"][0]["category_id"] not in {w.victim_category, None}
    await w.assert_victim_intact()


LISTINGS = [
    "/api/expenses",
    "/api/expenses/export.csv",
    "/api/expenses/totals",
    "/api/categories",
    "/api/reports/summary",
    "/api/reports/by-category",
    "/api/reports/monthly",
    "/api/reports/budget",
    "/api/me",
    "/api/settings",
]


@case(*(("GET", path) for path in LISTINGS))
async def api_listings_show_only_the_callers_data(w: World) -> None:
    for path in LISTINGS:
        response = await w.as_attacker("GET", path)
        assert response.status_code == 200, (path, response.text)
        w.assert_clean(response)
    for path in ("/api/expenses", "/api/expenses/export.csv", "/api/expenses/totals"):
        for params in ({"category_id": w.victim_category}, {"q": "VEXP"}, {"q": "VNOTE"}, {"min_amount": "300000"}):
            response = await w.as_attacker("GET", path, params=params)
            assert response.status_code == 200, response.text
            w.assert_clean(response)
    # The attacker's own data is there, so the views are not clean merely because they are empty.
    for path in ("/api/expenses", "/api/expenses/export.csv"):
        assert w.attacker_marker in (await w.as_attacker("GET", path)).text
    summary = (await w.as_attacker("GET", "/api/reports/summary")).json()
    assert summary["currencies"][0]["total"] == ATTACKER_AMOUNT
    totals = (await w.as_attacker("GET", "/api/expenses/totals")).json()
    assert [(c["total"], c["count"]) for c in totals["currencies"]] == [(ATTACKER_AMOUNT, 1)]


PAGES = ["/", "/expenses", "/expenses/new", "/categories", "/reports", "/import", "/settings"]


@case(*(("GET", path) for path in PAGES))
async def pages_show_only_the_callers_data(w: World) -> None:
    for path in PAGES:
        response = await w.page("GET", path)
        assert response.status_code == 200, (path, response.text[:300])
        w.assert_clean(response)
    for params in (f"category_id={w.victim_category}", "q=VEXP", "q=VNOTE"):
        w.assert_clean(await w.page("GET", f"/expenses?{params}"))
    for path in ("/", "/expenses"):
        assert w.attacker_marker in (await w.page("GET", path)).text
    # The export link on the expenses page, followed with the browser's cookie.
    w.client.cookies.set(SESSION_COOKIE, w.attacker.token)
    export = await w.client.get("/api/expenses/export.csv")
    w.client.cookies.clear()
    assert w.attacker_marker in export.text
    w.assert_clean(export)


@case(("GET", "/expenses/{expense_id:uuid}/edit"))
async def edit_page(w: World) -> None:
    await same_as_missing(w, lambda x: w.page("GET", f"/expenses/{ids(w, x, 'expense')}/edit"), 404)


@case(("POST", "/expenses/{expense_id:uuid}"))
async def edit_form(w: World) -> None:
    data = {"title": "pwned", "amount": "1"}
    await same_as_missing(w, lambda x: w.page("POST", f"/expenses/{ids(w, x, 'expense')}", data), 404)


@case(("GET", "/expenses/{expense_id:uuid}/delete"))
async def delete_expense_page(w: World) -> None:
    await same_as_missing(w, lambda x: w.page("GET", f"/expenses/{ids(w, x, 'expense')}/delete"), 404)


@case(("POST", "/expenses/{expense_id:uuid}/delete"))
async def delete_expense_form(w: World) -> None:
    data = {"confirm": "yes"}
    await same_as_missing(w, lambda x: w.page("POST", f"/expenses/{ids(w, x, 'expense')}/delete", data), 404)


@case(("POST", "/categories/{category_id:uuid}"))
async def edit_category_form(w: World) -> None:
    data = {"name": "pwned", "color": "#000000"}
    await same_as_missing(w, lambda x: w.page("POST", f"/categories/{ids(w, x, 'category')}", data), 404)


@case(("GET", "/categories/{category_id:uuid}/delete"))
async def delete_category_page(w: World) -> None:
    await same_as_missing(w, lambda x: w.page("GET", f"/categories/{ids(w, x, 'category')}/delete"), 404)


@case(("POST", "/categories/{category_id:uuid}/delete"))
async def delete_category_form(w: World) -> None:
    await same_as_missing(w, lambda x: w.page("POST", f"/categories/{ids(w, x, 'category')}/delete", {}), 404)


@case()
async def delete_own_category_form_into_a_foreign_one(w: World) -> None:
    url = f"/categories/{w.attacker_category}/delete"
    await same_as_missing(w, lambda x: w.page("POST", url, {"reassign_to": ids(w, x, "category")}), 400)


@case(("POST", "/expenses"))
async def create_expense_form_in_a_foreign_category(w: World) -> None:
    def send(x: str) -> Awaitable[httpx.Response]:
        return w.page("POST", "/expenses", {"title": "in yours", "amount": "2", "category_id": ids(w, x, "category")})

    await same_as_missing(w, send, 400)


@case(("POST", "/categories"))
async def create_category_form_named_like_a_foreign_one(w: World) -> None:
    response = await w.page("POST", "/categories", {"name": w.markers[0], "color": "#123456"})
    assert response.status_code == 303, response.text[:300]
    await w.assert_victim_intact()


# Exchange rates (issue 14): the victim's rate carries a marker value that must never reach the attacker.
VICTIM_RATE = "515151.5151"
R = "/api/rates/{rate_id:uuid}"


async def victim_rate(w: World) -> str:
    w.client.cookies.clear()
    body = {"currency": "EUR", "rate": VICTIM_RATE, "valid_from": "2026-01-01"}
    created = await w.client.post("/api/rates", json=body, headers=w.victim.headers)
    assert created.status_code == 201, created.text
    w.markers.append("515151")
    return str(created.json()["id"])


async def assert_victim_rate_intact(w: World, rate_id: str) -> None:
    w.client.cookies.clear()
    found = (await w.client.get(f"/api/rates/{rate_id}", headers=w.victim.headers)).json()
    assert (found["rate"], found["valid_from"]) == ("515151.51510000", "2026-01-01"), found


def rate_id(which: str, foreign: str) -> str:
    return foreign if which == "FOREIGN" else str(uuid.uuid4())


@case(("GET", R), ("PATCH", R), ("DELETE", R), ("POST", "/rates/{rate_id:uuid}/delete"))
async def foreign_rates_are_missing(w: World) -> None:
    foreign = await victim_rate(w)
    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/rates/{rate_id(x, foreign)}"), 404)
    patch = {"rate": "1.5", "valid_from": "2026-02-02"}
    await same_as_missing(w, lambda x: w.as_attacker("PATCH", f"/api/rates/{rate_id(x, foreign)}", json=patch), 404)
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/rates/{rate_id(x, foreign)}"), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/rates/{rate_id(x, foreign)}/delete", {}), 404)
    await assert_victim_rate_intact(w, foreign)


@case(("GET", "/api/rates"), ("GET", "/api/rates/export.csv"), ("GET", "/rates"))
async def rate_listings_show_only_the_callers_rates(w: World) -> None:
    await victim_rate(w)
    for path in ("/api/rates", "/api/rates/export.csv"):
        response = await w.as_attacker("GET", path)
        assert response.status_code == 200, response.text
        w.assert_clean(response)
    page = await w.page("GET", "/rates")
    assert page.status_code == 200
    w.assert_clean(page)


@case(("POST", "/api/rates"), ("POST", "/api/rates/import"), ("POST", "/rates"))
async def creating_a_rate_on_a_foreign_rates_day(w: World) -> None:
    """Rates are unique per user: the victim's (currency, day) is free for the attacker, and theirs stays as it was."""
    foreign = await victim_rate(w)
    created = await w.as_attacker(
        "POST", "/api/rates", json={"currency": "EUR", "rate": "1.1", "valid_from": "2026-01-01"}
    )
    assert created.status_code == 201, created.text
    csv = b"currency,rate,valid_from\nEUR,1.2,2026-01-01\n"
    imported = await w.as_attacker("POST", "/api/rates/import", files={"file": ("r.csv", csv)})
    assert imported.status_code == 201, imported.text
    form = await w.page("POST", "/rates", {"currency": "GBP", "rate": "1.3", "valid_from": "2026-01-01"})
    assert form.status_code == 303, form.text[:300]
    await assert_victim_rate_intact(w, foreign)


BANK = "/import/bank/{upload_id:uuid}"
PROFILE = "/api/imports/profiles/{profile_id:uuid}"


@case(
    ("POST", "/api/imports/uploads"),
    ("POST", "/api/imports/preview"),
    ("POST", "/api/imports/commit"),
    ("GET", "/api/imports/profiles"),
    ("POST", "/api/imports/profiles"),
    ("GET", PROFILE),
    ("PATCH", PROFILE),
    ("DELETE", PROFILE),
    ("GET", "/import/bank"),
    ("POST", "/import/bank"),
    ("GET", f"{BANK}/format"),
    ("POST", f"{BANK}/format"),
    ("GET", f"{BANK}/columns"),
    ("POST", f"{BANK}/columns"),
    ("GET", f"{BANK}/preview"),
    ("POST", f"{BANK}/import"),
)
async def bank_import_uploads_and_profiles_are_their_owners_only(w: World) -> None:
    """The victim's uploaded statement and saved bank: every route answers for them as for ids nobody has."""
    tag = uuid.uuid4().hex[:8]
    statement = f"Date,Description,Amount\n{TODAY},VSTMT{tag},-3.00\n".encode()
    w.client.cookies.clear()
    victim_upload = await w.client.post(
        "/api/imports/uploads", files={"file": ("v.csv", statement)}, headers=w.victim.headers
    )
    assert victim_upload.status_code == 201, victim_upload.text
    up = victim_upload.json()
    profile = await w.client.post(
        "/api/imports/profiles",
        json={"name": f"VBANK{tag}", "dialect": up["dialect"], "mapping": up["mapping"]},
        headers=w.victim.headers,
    )
    assert profile.status_code == 201, profile.text
    w.markers += [f"VSTMT{tag}", f"VBANK{tag}"]
    upload_id, profile_id = up["upload_id"], profile.json()["id"]

    def upload_of(x: str) -> str:
        return upload_id if x == "FOREIGN" else str(uuid.uuid4())

    def profile_of(x: str) -> str:
        return profile_id if x == "FOREIGN" else str(uuid.uuid4())

    body = {"dialect": up["dialect"], "mapping": up["mapping"]}
    mine = b"Date,Description,Amount\n2026-01-02,Mine,-1.00\n"
    for path in ("/api/imports/preview", "/api/imports/commit"):
        await same_as_missing(
            w, lambda x, p=path: w.as_attacker("POST", p, json={**body, "upload_id": upload_of(x)}), 404
        )
    await same_as_missing(
        w,
        lambda x: w.as_attacker(
            "POST", "/api/imports/uploads", files={"file": ("a.csv", mine)}, data={"profile_id": profile_of(x)}
        ),
        404,
    )
    for method, payload in (("GET", None), ("PATCH", {"name": "pwned"}), ("DELETE", None)):
        await same_as_missing(
            w,
            lambda x, m=method, j=payload: w.as_attacker(m, f"/api/imports/profiles/{profile_of(x)}", json=j),
            404,
        )
    listing = await w.as_attacker("GET", "/api/imports/profiles")
    assert listing.json() == []
    page = await w.page("GET", "/import/bank")
    assert page.status_code == 200
    w.assert_clean(page)
    named = await w.as_attacker("POST", "/api/imports/profiles", json={**body, "name": f"VBANK{tag}"})
    assert named.status_code == 201, named.text  # names are per user: no 409 revealing the victim's
    query = "&".join(f"{k}={v}" for k, v in (("encoding", "utf-8"), ("delimiter", ","), ("header_line", "1")))
    for step in ("format", "columns", "preview"):
        await same_as_missing(w, lambda x, s=step: w.page("GET", f"/import/bank/{upload_of(x)}/{s}?{query}"), 404)
    form = {"encoding": "utf-8", "delimiter": ",", "header_line": "1", "date": "Date", "title_1": "Description"}
    for step in ("format", "columns", "import"):
        await same_as_missing(w, lambda x, s=step: w.page("POST", f"/import/bank/{upload_of(x)}/{s}", form), 404)
    w.client.cookies.set(SESSION_COOKIE, w.attacker.token)
    await w.client.get("/", headers=HTML)
    token = {"_csrf_token": w.client.cookies.get(CSRF_COOKIE) or ""}
    for x in ("FOREIGN", "MISSING"):
        response = await w.client.post(
            "/import/bank",
            data={**token, "profile_id": profile_of(x)},
            files={"file": ("a.csv", mine)},
            headers=HTML,
        )
        assert response.status_code == 404, response.text[:300]
    w.client.cookies.clear()
    await w.assert_victim_intact()


RS = "/api/recurring/{schedule_id:uuid}"
RP = "/recurring/{schedule_id:uuid}"


@case(
    ("GET", "/api/recurring"),
    ("POST", "/api/recurring"),
    ("GET", "/api/recurring/upcoming"),
    ("GET", RS),
    ("PATCH", RS),
    ("DELETE", RS),
    ("POST", f"{RS}/pause"),
    ("POST", f"{RS}/resume"),
    ("GET", "/recurring"),
    ("POST", "/recurring"),
    ("GET", f"{RP}/edit"),
    ("POST", RP),
    ("POST", f"{RP}/pause"),
    ("POST", f"{RP}/resume"),
    ("POST", f"{RP}/delete"),
)
async def recurring_schedules_are_their_owners_only(w: World) -> None:
    """The victim's schedule: every route answers for it as for an id nobody has, and listings never show it."""
    tag = uuid.uuid4().hex[:8]
    w.client.cookies.clear()
    body = {"title": f"VREC{tag}", "amount": "616161.61", "unit": "week", "start_on": TODAY}
    created = await w.client.post("/api/recurring", json=body, headers=w.victim.headers)
    assert created.status_code == 201, created.text
    w.markers += [f"VREC{tag}", "616161"]
    foreign = created.json()["id"]

    def of(x: str) -> str:
        return foreign if x == "FOREIGN" else str(uuid.uuid4())

    for method, payload in (("GET", None), ("PATCH", {"title": "pwned"}), ("DELETE", None)):
        await same_as_missing(
            w, lambda x, m=method, j=payload: w.as_attacker(m, f"/api/recurring/{of(x)}", json=j), 404
        )
    for action in ("pause", "resume"):
        await same_as_missing(w, lambda x, a=action: w.as_attacker("POST", f"/api/recurring/{of(x)}/{a}"), 404)
    await same_as_missing(w, lambda x: w.page("GET", f"/recurring/{of(x)}/edit"), 404)
    form = {"title": "pwned", "amount": "1", "unit": "day", "interval": "1", "start_on": TODAY}
    await same_as_missing(w, lambda x: w.page("POST", f"/recurring/{of(x)}", form), 404)
    for action in ("pause", "resume"):
        await same_as_missing(w, lambda x, a=action: w.page("POST", f"/recurring/{of(x)}/{a}", {}), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/recurring/{of(x)}/delete", {"confirm": "yes"}), 404)
    for path in ("/api/recurring", "/api/recurring/upcoming"):
        response = await w.as_attacker("GET", path)
        assert response.status_code == 200
        assert response.json() == []
    for path in ("/recurring", "/"):
        page = await w.page("GET", path)
        assert page.status_code == 200
        w.assert_clean(page)
    own = await w.as_attacker("POST", "/api/recurring", json={**body, "title": "Mine", "amount": "1.11"})
    assert own.status_code == 201
    assert (await w.page("POST", "/recurring", {**form, "title": "Mine too"})).status_code == 303
    w.client.cookies.clear()
    kept = (await w.client.get(f"/api/recurring/{foreign}", headers=w.victim.headers)).json()
    assert (kept["title"], kept["amount"], kept["paused"]) == (f"VREC{tag}", "616161.61", False)


# Tags (issue 15): the victim's tag carries a marker name that must never reach the attacker.
T = "/api/tags/{tag_id:uuid}"


@case(
    ("GET", "/api/tags"),
    ("POST", "/api/tags"),
    ("GET", T),
    ("PATCH", T),
    ("DELETE", T),
    ("POST", f"{T}/merge"),
    ("GET", "/api/reports/by-tag"),
    ("GET", "/tags"),
    ("POST", "/tags"),
    ("POST", "/tags/{tag_id:uuid}"),
    ("POST", "/tags/{tag_id:uuid}/merge"),
    ("POST", "/tags/{tag_id:uuid}/delete"),
)
async def foreign_tags_are_missing_and_never_listed(w: World) -> None:
    name = f"VTAG{uuid.uuid4().hex[:8]}"
    w.client.cookies.clear()
    tagged = await w.client.patch(f"/api/expenses/{w.victim_expense}", json={"tags": [name]}, headers=w.victim.headers)
    assert tagged.status_code == 200, tagged.text
    w.markers.append(name)
    foreign = next(t["id"] for t in (await w.client.get("/api/tags", headers=w.victim.headers)).json())
    own = await w.as_attacker("POST", "/api/tags", json={"name": "mine"})
    assert own.status_code == 201, own.text
    own_id = own.json()["id"]

    def tag_of(x: str) -> str:
        return str(foreign) if x == "FOREIGN" else str(uuid.uuid4())

    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/tags/{tag_of(x)}"), 404)
    await same_as_missing(w, lambda x: w.as_attacker("PATCH", f"/api/tags/{tag_of(x)}", json={"name": "pwned"}), 404)
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/tags/{tag_of(x)}"), 404)
    await same_as_missing(
        w, lambda x: w.as_attacker("POST", f"/api/tags/{tag_of(x)}/merge", json={"into": own_id}), 404
    )
    await same_as_missing(
        w, lambda x: w.as_attacker("POST", f"/api/tags/{own_id}/merge", json={"into": tag_of(x)}), 400
    )
    await same_as_missing(w, lambda x: w.page("POST", f"/tags/{tag_of(x)}", {"name": "pwned"}), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/tags/{tag_of(x)}/merge", {"into": own_id}), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/tags/{tag_of(x)}/delete", {}), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/tags/{own_id}/merge", {"into": tag_of(x)}), 400)
    for path in ("/api/tags", "/api/reports/by-tag", f"/api/expenses?tag={name}", f"/api/expenses/totals?tag={name}"):
        response = await w.as_attacker("GET", path)
        assert response.status_code == 200, (path, response.text)
        w.assert_clean(response)
    for path in ("/tags", "/reports"):
        page = await w.page("GET", path)
        assert page.status_code == 200, (path, page.text[:300])
        w.assert_clean(page)
    # Filtered by the victim's tag name, the page echoes that name (the attacker typed it) and lists nothing of theirs.
    filtered = await w.page("GET", f"/expenses?tag={name}")
    assert filtered.status_code == 200
    assert "No expenses match." in filtered.text
    for marker in w.markers[:-1]:
        assert marker not in filtered.text, marker
    # Names are per user: the victim's is free for the attacker (no 409 revealing it), as a new tag of their own.
    same_name = await w.as_attacker("POST", "/api/tags", json={"name": name.lower()})
    assert same_name.status_code == 201, same_name.text
    assert same_name.json()["id"] != foreign
    assert (await w.page("POST", "/tags", {"name": name.upper()})).status_code == 400  # now their own clash
    w.client.cookies.clear()
    victim_tags = (await w.client.get("/api/tags", headers=w.victim.headers)).json()
    assert [(t["id"], t["name"], t["expense_count"]) for t in victim_tags] == [(foreign, name, 1)]
    await w.assert_victim_intact()


# Routes that take no id and act on the caller's own account only, or serve no user data at all.
# --- trash (issue 15): another user's trash items are missing ones, everywhere ---------------------------------


async def victim_trash_item(w: World) -> str:
    """A trash item of the victim's: an expense with the victim's markers, deleted (the world's own one stays)."""
    body = {"title": w.markers[1], "amount": VICTIM_AMOUNT, "notes": w.markers[2], "spent_on": TODAY}
    created = await w.client.post("/api/expenses", json=body, headers=w.victim.headers)
    deleted = await w.client.delete(f"/api/expenses/{created.json()['id']}", headers=w.victim.headers)
    return str(deleted.headers["X-Trash-Item"])


async def assert_victim_trash_intact(w: World, item: str) -> None:
    w.client.cookies.clear()
    listed = (await w.client.get("/api/trash", headers=w.victim.headers)).json()
    assert item in [i["id"] for i in listed]


@case(("GET", "/api/trash"), ("DELETE", "/api/trash"), ("GET", "/trash"))
async def trash_lists_only_the_callers_items(w: World) -> None:
    item = await victim_trash_item(w)
    listing = await w.as_attacker("GET", "/api/trash")
    assert listing.json() == []
    w.assert_clean(listing)
    page = await w.page("GET", "/trash")
    assert page.status_code == 200
    w.assert_clean(page)
    assert item not in page.text
    assert (await w.as_attacker("DELETE", "/api/trash")).json() == {"purged": 0}
    await assert_victim_trash_intact(w, item)


@case(
    ("GET", "/api/trash/{item_id:uuid}"),
    ("POST", "/api/trash/{item_id:uuid}/restore"),
    ("DELETE", "/api/trash/{item_id:uuid}"),
)
async def trash_item_api(w: World) -> None:
    item = await victim_trash_item(w)

    def target(which: str) -> str:
        return item if which == "FOREIGN" else str(uuid.uuid4())

    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/trash/{target(x)}"), 404)
    await same_as_missing(w, lambda x: w.as_attacker("POST", f"/api/trash/{target(x)}/restore"), 404)
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/trash/{target(x)}"), 404)
    await assert_victim_trash_intact(w, item)


@case(
    ("POST", "/trash/{item_id:uuid}/restore"),
    ("GET", "/trash/{item_id:uuid}/delete"),
    ("POST", "/trash/{item_id:uuid}/delete"),
)
async def trash_item_pages(w: World) -> None:
    item = await victim_trash_item(w)

    def target(which: str) -> str:
        return item if which == "FOREIGN" else str(uuid.uuid4())

    await same_as_missing(w, lambda x: w.page("POST", f"/trash/{target(x)}/restore", {"next": "/"}), 404)
    await same_as_missing(w, lambda x: w.page("GET", f"/trash/{target(x)}/delete"), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/trash/{target(x)}/delete", {"confirm": "yes"}), 404)
    await assert_victim_trash_intact(w, item)


@case(("GET", "/trash/empty"), ("POST", "/trash/empty"))
async def trash_empty_pages(w: World) -> None:
    item = await victim_trash_item(w)
    page = await w.page("GET", "/trash/empty")
    assert page.status_code == 200
    assert "0 items will be deleted forever" in " ".join(page.text.split())
    w.assert_clean(page)
    assert (await w.page("POST", "/trash/empty", {"confirm": "yes"})).status_code == 303
    await assert_victim_trash_intact(w, item)


# Split payments (issue 15): the victim's split (its parts carry a marker title) answers like one nobody has.
SP = "/api/splits/{split_id:uuid}"
SPP = "/splits/{split_id:uuid}"


@case(
    ("POST", "/api/splits"),
    ("GET", SP),
    ("PUT", SP),
    ("DELETE", SP),
    ("GET", "/splits/new"),
    ("POST", "/splits"),
    ("GET", f"{SPP}/edit"),
    ("POST", SPP),
    ("GET", f"{SPP}/delete"),
    ("POST", f"{SPP}/delete"),
)
async def foreign_splits_are_missing(w: World) -> None:
    tag = uuid.uuid4().hex[:8]
    w.client.cookies.clear()
    body = {
        "title": f"VSPLIT{tag}",
        "amount": "525252.52",
        "spent_on": TODAY,
        "parts": [
            {"amount": "525252.00", "category_id": w.victim_category},
            {"amount": "0.52", "category_id": None, "notes": f"VPART{tag}"},
        ],
    }
    created = await w.client.post("/api/splits", json=body, headers=w.victim.headers)
    assert created.status_code == 201, created.text
    foreign = created.json()["id"]
    w.markers += [f"VSPLIT{tag}", f"VPART{tag}", "525252"]

    def of(x: str) -> str:
        return foreign if x == "FOREIGN" else str(uuid.uuid4())

    own_body = {
        "title": "Mine",
        "amount": "2.22",
        "parts": [{"amount": "1.11", "category_id": w.attacker_category}, {"amount": "1.11", "category_id": None}],
    }
    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/splits/{of(x)}"), 404)
    await same_as_missing(w, lambda x: w.as_attacker("PUT", f"/api/splits/{of(x)}", json=own_body), 404)
    await same_as_missing(w, lambda x: w.as_attacker("DELETE", f"/api/splits/{of(x)}"), 404)
    # A part in a foreign category, or splitting up a foreign expense: as for ones that do not exist.
    in_foreign = {**own_body, "parts": [{"amount": "1.11", "category_id": w.victim_category}, own_body["parts"][1]]}
    missing_category = {
        **own_body,
        "parts": [{"amount": "1.11", "category_id": str(uuid.uuid4())}, own_body["parts"][1]],
    }

    async def create_in(x: str) -> httpx.Response:
        return await w.as_attacker("POST", "/api/splits", json=in_foreign if x == "FOREIGN" else missing_category)

    await same_as_missing(w, create_in, 400)
    await same_as_missing(
        w, lambda x: w.as_attacker("POST", "/api/splits", json={**own_body, "expense_id": ids(w, x, "expense")}), 404
    )
    await same_as_missing(w, lambda x: w.page("GET", f"/splits/{of(x)}/edit"), 404)
    await same_as_missing(w, lambda x: w.page("GET", f"/splits/{of(x)}/delete"), 404)
    await same_as_missing(w, lambda x: w.page("POST", f"/splits/{of(x)}/delete", {"confirm": "yes"}), 404)
    form = {
        "title": "Mine",
        "amount": "2.22",
        "currency": "USD",
        "spent_on": TODAY,
        "rows": "2",
        "part-0-amount": "1.11",
        "part-0-category_id": w.attacker_category,
        "part-1-amount": "1.11",
    }
    await same_as_missing(w, lambda x: w.page("POST", f"/splits/{of(x)}", form), 404)
    # The new-split form's foreign category is an inline error like a missing one; nothing stored.
    await same_as_missing(
        w, lambda x: w.page("POST", "/splits", {**form, "part-0-category_id": ids(w, x, "category")}), 400
    )
    new_page = await w.page("GET", f"/splits/new?expense_id={w.victim_expense}&title=x")
    assert new_page.status_code == 200
    w.assert_clean(new_page)
    assert (await w.page("POST", "/splits", form)).status_code == 303  # their own split works
    w.client.cookies.clear()
    kept = (await w.client.get(f"/api/splits/{foreign}", headers=w.victim.headers)).json()
    assert (kept["title"], kept["amount"], len(kept["parts"])) == (f"VSPLIT{tag}", "525252.52", 2)


# Budgets over time (issue 15): the victim's category budget history is theirs only.
@case(
    ("GET", "/api/budgets"),
    ("GET", "/api/budgets/year"),
    ("GET", "/api/budgets/history/{category_id:uuid}"),
    ("PUT", "/api/budgets/{category_id:uuid}/{month:str}"),
    ("GET", "/budgets"),
    ("GET", "/budgets/year"),
    ("POST", "/budgets/{category_id:uuid}"),
)
async def foreign_budgets_are_missing_and_never_listed(w: World) -> None:
    month = TODAY[:7]
    await same_as_missing(w, lambda x: w.as_attacker("GET", f"/api/budgets/history/{ids(w, x, 'category')}"), 404)
    await same_as_missing(
        w,
        lambda x: w.as_attacker("PUT", f"/api/budgets/{ids(w, x, 'category')}/{month}", json={"amount": "1.00"}),
        404,
    )
    await same_as_missing(
        w, lambda x: w.page("POST", f"/budgets/{ids(w, x, 'category')}", {"from": month, "amount": "1.00"}), 404
    )
    for path in ("/api/budgets", "/api/budgets/year", f"/api/budgets?month={month}"):
        response = await w.as_attacker("GET", path)
        assert response.status_code == 200, response.text
        w.assert_clean(response)
        assert w.victim_category not in response.text
    for path in ("/budgets", "/budgets/year"):
        page = await w.page("GET", path)
        assert page.status_code == 200
        w.assert_clean(page)
        assert w.victim_category not in page.text
    w.client.cookies.clear()
    history = await w.client.get(f"/api/budgets/history/{w.victim_category}", headers=w.victim.headers)
    assert [(e["amount"]) for e in history.json()["entries"]] == [VICTIM_BUDGET]


EXEMPT: dict[Route, str] = {
    ("GET", "/healthz"): "no user data",
    ("GET", "/readyz"): "no user data",
    ("GET", "/api"): "OpenAPI root",
    ("GET", "/api/openapi.json"): "OpenAPI schema",
    ("GET", "/api/docs"): "API docs page",
    ("GET", "/api/oauth2-redirect.html"): "Swagger UI helper",
    ("GET", "/api/{path:str}"): "OpenAPI router fallback: 404 for everything but the schema and docs",
    ("GET", "/static/{file_path:path}"): "static assets",
    ("HEAD", "/static/{file_path:path}"): "static assets",
    ("GET", "/login"): "sign-in page, no session",
    ("POST", "/login/dev"): "signs in as the given email (development only)",
    ("POST", "/auth/dev-login"): "signs in as the given email (development only)",
    ("GET", "/auth/{provider:str}/login"): "OAuth redirect, no session",
    ("GET", "/auth/{provider:str}/callback"): "OAuth callback, no session",
    ("POST", "/auth/logout"): "revokes the caller's own token",
    ("POST", "/logout"): "revokes the caller's own token",
    ("PUT", "/api/settings"): "writes the caller's own settings; takes no id",
    ("POST", "/settings"): "writes the caller's own settings; takes no id",
    ("POST", "/import"): "the same import service as POST /api/expenses/import (in the matrix)",
    ("POST", "/rates/import"): "the same import service as POST /api/rates/import (in the matrix)",
    ("GET", "/import/bank/{upload_id:uuid}/done"): "shows only the counts in its own query string; reads no data",
}


def app_routes(app: Litestar) -> set[Route]:
    found: set[Route] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            found.update((m, route.path) for m in getattr(handler, "http_methods", ()) if m != "OPTIONS")
    return found


def test_every_route_is_in_the_matrix() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    routes = app_routes(app)
    covered = {route for routes_, _ in CASES.values() for route in routes_}
    assert not covered & set(EXEMPT), "a route is both tested and exempt"
    assert routes - covered - set(EXEMPT) == set(), "routes missing from the isolation matrix"
    assert (covered | set(EXEMPT)) - routes == set(), "the matrix names routes the app does not have"


@pytest.mark.parametrize("name", sorted(CASES))
async def test_isolation(world: World, name: str) -> None:
    _, run = CASES[name]
    await run(world)
    await world.assert_victim_intact()
