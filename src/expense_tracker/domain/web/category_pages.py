from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.db.models import User
from expense_tracker.dependencies import Budgets, Categories, Trash
from expense_tracker.domain.budgets.services import in_force
from expense_tracker.domain.categories.schemas import CategoryCreate
from expense_tracker.domain.trash.services import CATEGORY_TABLE
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import local_amount, parse_form
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import month_start, today_in

OPTIONAL = frozenset({"monthly_budget", "budget_currency", "budget_from"})


def budget_values(data: dict[str, Any]) -> dict[str, Any]:
    """The form with the rollover checkbox as a boolean (a browser sends nothing for an unticked box)."""
    return {**data, "rollover": bool(data.get("rollover"))}


class CategoryPages(Controller):
    path = "/categories"
    include_in_schema = False
    opt = HTML_OPT

    async def _page(
        self,
        request: Request[User, Any, Any],
        categories: Categories,
        budgets: Budgets,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        user = request.user
        this_month = month_start(today_in(user.timezone))
        histories = await budgets.histories(user.id)
        # Whether this month's budget rolls over: the edit form's checkbox starts as it is.
        rollover = {cid: bool((c := in_force(h, this_month)) and c.rolls) for cid, h in histories.items()}
        context.setdefault("new_form", {"name": "", "color": "#4f7cac", "monthly_budget": "", "budget_currency": ""})
        context.setdefault("errors", {})
        context.setdefault("error_for", None)
        return render(
            request,
            "categories.html",
            status_code=status_code,
            categories=await categories.list_for(user.id),
            usage=await categories.usage_counts(user.id),
            rollover=rollover,
            this_month=f"{this_month:%Y-%m}",
            **context,
        )

    @get("/")
    async def list_page(self, request: Request[User, Any, Any], categories: Categories, budgets: Budgets) -> Template:
        return await self._page(request, categories, budgets)

    @post("/")
    async def create(
        self,
        request: Request[User, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        budgets: Budgets,
    ) -> Template | Redirect:
        # Typed in the user's locale, with the decimals of the budget's currency (the default one when left blank).
        currency = str(data.get("budget_currency", "")).strip().upper() or request.user.currency
        values, errors = local_amount(data, "monthly_budget", currency)
        body, errors = (None, errors) if errors else parse_form(CategoryCreate, budget_values(values), OPTIONAL)
        if body is not None:
            try:
                values = {
                    "name": body.name,
                    "color": body.color,
                    "monthly_budget": body.monthly_budget,
                    "budget_currency": body.budget_currency,
                    "budget_from": body.budget_from,
                    "rollover": body.rollover,
                }
                today = today_in(request.user.timezone)
                await categories.create_for(request.user.id, values, request.user.currency, today)
                return see_other("/categories", msg="category-added")
            except FieldValidationError as exc:
                errors = exc.by_field()
            except HTTPException as exc:
                errors = {"name": str(exc.detail)}
        return await self._page(request, categories, budgets, 400, new_form=data, errors=errors, error_for="new")

    @post("/{category_id:uuid}")
    async def update(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        budgets: Budgets,
        trash: Trash,
    ) -> Template | Redirect:
        category = await categories.get_owned(request.user.id, category_id)
        currency = (
            str(data.get("budget_currency", "")).strip().upper() or category.budget_currency or request.user.currency
        )
        values, errors = local_amount(data, "monthly_budget", currency)
        body, errors = (None, errors) if errors else parse_form(CategoryCreate, budget_values(values), OPTIONAL)
        if body is not None:
            try:
                values = {
                    "name": body.name,
                    "color": body.color,
                    "monthly_budget": body.monthly_budget,
                    "budget_currency": body.budget_currency,
                    "budget_from": body.budget_from,
                    "rollover": body.rollover,
                }
                today = today_in(request.user.timezone)
                # The previous values are kept for the notice's "Undo"; a 400 rolls the snapshot back with the edit.
                # The form always carries the budget: the undo puts the budget history back too.
                async with trash.editing(
                    request.user.id, CATEGORY_TABLE, category_id, category.name, children=("budget",)
                ) as undo:
                    await categories.update_for(request.user.id, category_id, values, request.user.currency, today)
                return see_other("/categories", msg="category-saved", undo=str(undo.id))
            except FieldValidationError as exc:
                errors = exc.by_field()
            except HTTPException as exc:
                errors = {"name": str(exc.detail)}
        return await self._page(
            request, categories, budgets, 400, errors=errors, error_for=str(category_id), edit_form=data
        )

    @get("/{category_id:uuid}/delete")
    async def delete_page(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        categories: Categories,
    ) -> Template:
        category = await categories.get_owned(request.user.id, category_id)
        in_use = await categories.usage_count(request.user.id, category_id)
        others = [c for c in await categories.list_for(request.user.id) if c.id != category_id]
        return render(request, "category_delete.html", category=category, in_use=in_use, others=others, errors={})

    @post("/{category_id:uuid}/delete")
    async def delete(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        trash: Trash,
    ) -> Template | Redirect:
        target = data.get("reassign_to") or None
        try:
            reassign = uuid.UUID(target) if target else None
            item = await trash.trash_category(request.user.id, category_id, reassign)
        except (ValueError, HTTPException) as exc:
            message = (
                "Choose where its expenses should go."
                if not isinstance(exc, FieldValidationError)
                else ("Choose another of your categories.")
            )
            category = await categories.get_owned(request.user.id, category_id)
            in_use = await categories.usage_count(request.user.id, category_id)
            others = [c for c in await categories.list_for(request.user.id) if c.id != category_id]
            return render(
                request,
                "category_delete.html",
                status_code=400,
                category=category,
                in_use=in_use,
                others=others,
                errors={"reassign_to": message},
            )
        return see_other("/categories", msg="category-deleted", undo=str(item.id))
