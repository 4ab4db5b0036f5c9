from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import DASHBOARD_UPCOMING_DAYS, OFFSET_MAX, PAGE_SIZE_MAX
from expense_tracker.db.models import Category, Expense, User
from expense_tracker.dependencies import (
    AppSettings,
    Budgets,
    Categories,
    Expenses,
    Recurring,
    Reports,
    Splits,
    Tags,
    Trash,
)
from expense_tracker.domain.accounts.auth import safe_next
from expense_tracker.domain.expenses import cursors
from expense_tracker.domain.expenses.deps import FILTER_PARAMS, parse_cursor, parse_filters
from expense_tracker.domain.expenses.schemas import ExpenseFilters
from expense_tracker.domain.expenses.search import operator_chips
from expense_tracker.domain.trash.services import EXPENSE_TABLE, expense_label
from expense_tracker.domain.web.budget_pages import month_links, read_month
from expense_tracker.domain.web.common import HTML_OPT, render, see_other, with_query
from expense_tracker.domain.web.forms import parse_expense_form
from expense_tracker.lib.formatting import day_range, month_title
from expense_tracker.lib.locales import current_locale, input_amount
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.structs import provided_fields
from expense_tracker.lib.timezones import month_start, next_month_start, same_days_last_month, today_in

UI_PAGE_SIZE = 25
OPTIONAL_EXPENSE_FIELDS = frozenset({"currency", "category_id", "spent_on", "notes", "tags"})
SORTS = {
    "-spent_on": "Newest first",
    "spent_on": "Oldest first",
    "-amount": "Largest first",
    "amount": "Smallest first",
    "created_at": "Recently added last",
}


def filter_query(filters: ExpenseFilters, *, local: bool = False) -> dict[str, Any]:
    """The filters as URL parameters, so a view can be bookmarked, shared and exported.

    ``local``: amounts as the page's filter form takes them (the user's locale); otherwise the API's machine format.
    """

    def amount(value: Any) -> Any:
        return input_amount(value, current_locale.get()) if local and value is not None else value

    return {
        "from": filters.date_from,
        "to": filters.date_to,
        "category_id": filters.category_id,
        "currency": filters.currency,
        "q": filters.q,
        "min_amount": amount(filters.min_amount),
        "max_amount": amount(filters.max_amount),
        "sort": None if filters.sort == "-spent_on" else filters.sort,
        "tag": list(filters.tags),
        "tag_mode": None if filters.tag_mode == "any" else filters.tag_mode,
    }


def blank_form(user: User, category_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "title": "",
        "amount": "",
        "refund": "",
        "currency": user.currency,
        "category_id": str(category_id or ""),
        "spent_on": today_in(user.timezone).isoformat(),
        "notes": "",
        "tags": "",
    }


def expense_form(expense: Expense, tags: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "title": expense.title,
        # A refund shows as its size with the refund box ticked, in the user's locale (it is parsed back in it).
        "amount": input_amount(abs(expense.amount), current_locale.get()),
        "refund": "yes" if expense.amount < 0 else "",
        "currency": expense.currency,
        "category_id": str(expense.category_id or ""),
        "spent_on": expense.spent_on.isoformat(),
        "notes": expense.notes,
        "tags": ", ".join(tags),
    }


def tag_options(names: Sequence[str], chosen: Sequence[str]) -> list[tuple[str, bool]]:
    """The filter panel's tag checkboxes: every tag of the user, and a filtered name they do not have (a link from
    elsewhere) so that it can be unticked; ticked when filtered by, ignoring case."""
    picked = {name.lower() for name in chosen}
    known = {name.lower() for name in names}
    offered = [*names, *(name for name in chosen if name.lower() not in known)]
    return [(name, name.lower() in picked) for name in offered]


def names_by_id(categories: Sequence[Category]) -> dict[uuid.UUID, Category]:
    return {c.id: c for c in categories}


class DashboardPage(Controller):
    include_in_schema = False
    opt = HTML_OPT

    @get("/")
    async def dashboard(
        self,
        request: Request[User, Any, Any],
        reports: Reports,
        categories: Categories,
        expenses: Expenses,
        recurring: Recurring,
        budgets: Budgets,
        month: Annotated[str | None, QueryParameter(name="month")] = None,
    ) -> Template:
        user = request.user
        today = today_in(user.timezone)
        this_month = month_start(today)
        # ?month=YYYY-MM shows another month (a bad one: this month, the error beside the month picker, 400).
        shown, month_errors = read_month(month, today)
        if shown == this_month:
            # Month to date against the same days of last month: a whole previous month would make every month look
            # cheap until its last days.
            shown_end = today
            last_start, last_end = same_days_last_month(today)
            last_period = day_range(last_start, last_end)
        else:
            shown_end = next_month_start(shown) - dt.timedelta(days=1)
            last_start = month_start(shown, 1)
            last_end = shown - dt.timedelta(days=1)
            last_period = f"in {month_title(last_start)}"
        convert_to = user.currency if user.convert_totals else None
        current = await reports.summary(user.id, shown, shown_end, convert_to)
        previous = await reports.summary(user.id, last_start, last_end, convert_to)
        budget = await budgets.month(user.id, shown, user.currency)
        latest = (await expenses.page(user.id, ExpenseFilters(), limit=8, with_total=False)).items
        cats = await categories.list_for(user.id)
        by_id = names_by_id(cats)
        last_used = await expenses.last_used_category(user.id)

        def total(summary: Any) -> Any:
            if summary.converted is not None:
                return summary.converted.total if summary.converted.count else None
            return next((c.total for c in summary.currencies if c.currency == user.currency), None)

        return render(
            request,
            "dashboard.html",
            this_total=total(current),
            last_total=total(previous),
            # Never silently partial: the other currencies (or, converted, what had no rate) are listed with the total.
            converted=current.converted,
            other_currencies=[c for c in current.currencies if c.currency != user.currency],
            last_period=last_period,
            month_label=month_title(shown),
            month_nav=month_links("/", shown),
            month_value=month if month_errors else f"{shown:%Y-%m}",
            month_errors=month_errors,
            is_this_month=shown == this_month,
            budget_lines=[line for line in budget.lines if line.budget is not None],
            latest=latest,
            categories=cats,
            by_id=by_id,
            form=blank_form(user, last_used),
            recent_currencies=await expenses.recent_currencies(user),
            category_hint=f"Pre-selected: {by_id[last_used].name}, the category of your last expense."
            if last_used in by_id
            else "",
            errors={},
            upcoming=await recurring.upcoming_for(user, DASHBOARD_UPCOMING_DAYS, today),
            upcoming_days=DASHBOARD_UPCOMING_DAYS,
            today=today,
            status_code=400 if month_errors else 200,
        )


class ExpensePages(Controller):
    path = "/expenses"
    include_in_schema = False
    opt = HTML_OPT

    @get("/")
    async def list_page(
        self,
        request: Request[User, Any, Any],
        categories: Categories,
        expenses: Expenses,
        tags: Tags,
        settings: AppSettings,
        splits: Splits,
        offset: Annotated[int, QueryParameter(ge=0, le=OFFSET_MAX)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_SIZE_MAX)] = UI_PAGE_SIZE,
        cursor: Annotated[str | None, QueryParameter(max_length=cursors.CURSOR_MAX_LENGTH)] = None,
    ) -> Template:
        user = request.user
        # The filters are read here, not by the API's dependency: a bad value is shown next to its field in the
        # filter form (400, the page itself), never as a dead-end error page.
        raw: dict[str, Any] = {name: request.query_params.get(name) for name in FILTER_PARAMS}
        raw["tag"] = request.query_params.getall("tag", [])
        try:
            filters = parse_filters(raw, local_amounts=True)
            after = parse_cursor(settings.secret_key, cursor, offset, filters)
        except FieldValidationError as exc:
            form: dict[str, Any] = {name: value or "" for name, value in raw.items()}
            return render(
                request,
                "expenses.html",
                status_code=400,
                **await self._list_context(user, categories, expenses, tags, form, exc.by_field()),
                items=[],
                filters=None,
            )
        listing = await expenses.page(user.id, filters, limit, offset, after, with_tags=True)
        items = listing.items
        query = filter_query(filters, local=True)
        # Where this page starts: a cursor carries its position, so "Showing 51 to 75" and "Previous" still work.
        start = after.position if after is not None else offset
        size = None if limit == UI_PAGE_SIZE else limit
        next_url = prev_url = None
        if listing.next_after is not None:
            next_cursor = cursors.encode(settings.secret_key, listing.next_after)
            next_url = with_query("/expenses", {**query, "limit": size, "cursor": next_cursor})
        if start > 0:
            # Backwards by offset (bounded): beyond OFFSET_MAX only the first page is reachable that way.
            back = max(start - limit, 0)
            prev_url = with_query(
                "/expenses", {**query, "limit": size, "offset": (back if back <= OFFSET_MAX else 0) or None}
            )
        form = {name: "" if value is None else str(value) for name, value in query.items()}
        form["sort"] = filters.sort
        form["tag"] = list(filters.tags)
        return render(
            request,
            "expenses.html",
            **await self._list_context(user, categories, expenses, tags, form, {}),
            items=items,
            item_tags=listing.tags,
            edit_forms={e.id: expense_form(e, listing.tags.get(e.id, ())) for e in items},
            # Parts of split payments: "Split 1/2 of $42.50", edited and deleted as the whole payment.
            split_badges=await splits.badges(user.id, {e.split_id for e in items if e.split_id is not None}),
            total=listing.total,
            total_capped=listing.total_capped,
            totals=listing.totals,
            offset=start,
            limit=limit,
            next_url=next_url,
            next_label="Older →" if filters.sort == "-spent_on" else "Next →",
            prev_label="← Newer" if filters.sort == "-spent_on" else "← Previous",
            filters=filters,
            query=query,
            prev_url=prev_url,
            sort_url=lambda key: with_query("/expenses", {**query, "sort": key}),
            # The search box's operators as links to the same view without each (no JavaScript needed).
            search_chips=[
                (chip.label, with_query("/expenses", {**query, "q": chip.q or None}))
                for chip in operator_chips(filters.q)
            ],
            export_url=with_query("/api/expenses/export.csv", filter_query(filters)),
            here=with_query("/expenses", {**query, "offset": offset or None, "cursor": cursor}),
        )

    @staticmethod
    async def _list_context(
        user: User, categories: Categories, expenses: Expenses, tags: Tags, form: dict[str, Any], errors: dict[str, str]
    ) -> dict[str, Any]:
        """What the list page shows whether or not its filters are valid: the filter form and its choices."""
        cats = await categories.list_for(user.id)
        names = await tags.names(user.id)
        return {
            "tag_names": names,
            "tag_options": tag_options(names, form.get("tag") or []),
            "form": form,
            "errors": errors,
            "categories": cats,
            "by_id": names_by_id(cats),
            "recent_currencies": await expenses.recent_currencies(user),
            "sorts": SORTS,
        }

    @get("/new")
    async def new_page(
        self, request: Request[User, Any, Any], categories: Categories, expenses: Expenses, tags: Tags
    ) -> Template:
        user = request.user
        default = await expenses.last_used_category(user.id)
        return render(
            request,
            "expense_form.html",
            expense=None,
            form=blank_form(user, default),
            errors={},
            categories=await categories.list_for(user.id),
            recent_currencies=await expenses.recent_currencies(user),
            tag_names=await tags.names(user.id),
            next_path="/expenses",
        )

    @post("/")
    async def create(
        self,
        request: Request[User, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        expenses: Expenses,
        tags: Tags,
    ) -> Template | Redirect:
        user = request.user
        next_path = safe_next(data.get("next") or "/expenses")
        if data.get("action") == "split":
            # "Split across categories": the split form, starting from what was typed so far (works without JS).
            carried = {k: data.get(k, "") for k in ("title", "amount", "refund", "currency", "spent_on", "category_id")}
            return see_other(with_query("/splits/new", {**carried, "next": next_path}))
        body, errors = parse_expense_form(data, OPTIONAL_EXPENSE_FIELDS, user.currency)
        if body is not None:
            try:
                await expenses.create_for(user, provided_fields(body), source="ui")
            except FieldValidationError as exc:
                errors = exc.by_field()
            else:
                return see_other(next_path, msg="added")
        return render(
            request,
            "expense_form.html",
            status_code=400,
            expense=None,
            form=data,
            errors=errors,
            categories=await categories.list_for(user.id),
            recent_currencies=await expenses.recent_currencies(user),
            tag_names=await tags.names(user.id),
            next_path=next_path,
        )

    @get("/{expense_id:uuid}/edit")
    async def edit_page(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        categories: Categories,
        expenses: Expenses,
        tags: Tags,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Template | Redirect:
        expense = await expenses.get_owned(request.user.id, expense_id)
        if expense.split_id is not None:  # a part is edited with its split (its parts must keep adding up)
            return Redirect(with_query(f"/splits/{expense.split_id}/edit", {"next": next_path}), status_code=303)
        return render(
            request,
            "expense_form.html",
            expense=expense,
            form=expense_form(expense, await expenses.tags_of(expense.id)),
            errors={},
            categories=await categories.list_for(request.user.id),
            recent_currencies=await expenses.recent_currencies(request.user),
            tag_names=await tags.names(request.user.id),
            next_path=safe_next(next_path or "/expenses"),
        )

    @post("/{expense_id:uuid}")
    async def update(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        expenses: Expenses,
        trash: Trash,
        tags: Tags,
    ) -> Template | Redirect:
        user = request.user
        expense = await expenses.get_owned(user.id, expense_id)
        next_path = safe_next(data.get("next") or "/expenses")
        if data.get("action") == "split":
            # Split this expense up: the split form starts from the fields as typed; saving turns the expense into the
            # split's first part (same id). Nothing is stored until then.
            carried = {k: data.get(k, "") for k in ("title", "amount", "refund", "currency", "spent_on", "category_id")}
            query = {**carried, "notes": data.get("notes", ""), "expense_id": str(expense.id), "next": next_path}
            return see_other(with_query("/splits/new", query))
        body, errors = parse_expense_form(data, OPTIONAL_EXPENSE_FIELDS, user.currency)
        if body is not None:
            values = provided_fields(body)
            values["category_id"] = body.category_id  # a blank select means "no category"
            values.setdefault("currency", user.currency)
            if "tags" not in data:  # a form without the tags field leaves the tags alone
                values.pop("tags", None)
            try:
                # The previous values are kept for the notice's "Undo"; a 400 rolls the snapshot back with the edit.
                children = ("expense_tag",) if "tags" in values else ()  # the undo puts the old tags back too
                async with trash.editing(
                    user.id, EXPENSE_TABLE, expense.id, expense_label(expense), children=children
                ) as undo:
                    await expenses.update_for(user.id, expense.id, values)
            except FieldValidationError as exc:
                errors = exc.by_field()
            else:
                return see_other(next_path, msg="saved", undo=str(undo.id))
        return render(
            request,
            "expense_form.html",
            status_code=400,
            expense=expense,
            form=data,
            errors=errors,
            categories=await categories.list_for(user.id),
            recent_currencies=await expenses.recent_currencies(user),
            tag_names=await tags.names(user.id),
            next_path=next_path,
        )

    @get("/{expense_id:uuid}/delete")
    async def delete_page(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        expenses: Expenses,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Template | Redirect:
        """The no-JavaScript confirmation step (with JavaScript a dialog asks instead)."""
        expense = await expenses.get_owned(request.user.id, expense_id)
        if expense.split_id is not None:  # a part goes with its whole payment
            return Redirect(with_query(f"/splits/{expense.split_id}/delete", {"next": next_path}), status_code=303)
        return render(request, "expense_delete.html", expense=expense, next_path=safe_next(next_path or "/expenses"))

    @post("/{expense_id:uuid}/delete")
    async def delete(
        self,
        request: Request[User, Any, Any],
        expense_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        expenses: Expenses,
        trash: Trash,
    ) -> Template | Redirect:
        next_path = safe_next(data.get("next") or "/expenses")
        if data.get("confirm") != "yes":
            expense = await expenses.get_owned(request.user.id, expense_id)
            return render(request, "expense_delete.html", expense=expense, next_path=next_path)
        item = await trash.trash_expenses(request.user.id, [expense_id])
        return see_other(next_path, msg="deleted", undo=str(item.id))
