"""Recurring expenses in the browser: the list with a form to add one, edit, pause/resume and delete.

Plain forms (no JavaScript needed), validated by the API's ``ScheduleCreate`` and saved by the same
``RecurringService``; the amount is read in the user's locale like the expense form's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.db.models import RecurringSchedule, User
from expense_tracker.dependencies import Categories, Expenses, Recurring
from expense_tracker.domain.recurring.schemas import ScheduleCreate
from expense_tracker.domain.recurring.services import next_on
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import local_amount, parse_form
from expense_tracker.lib.formatting import amount_input
from expense_tracker.lib.locales import current_locale, format_message
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import today_in

OPTIONAL = frozenset({"currency", "category_id", "day_of_month", "end_on", "max_count", "notes"})
WHOLE_NUMBERS = ("interval", "day_of_month", "max_count")
UNIT_LABELS = {
    "day": ("day", "days"),
    "week": ("week", "weeks"),
    "month": ("month", "months"),
    "year": ("year", "years"),
}


def describe(schedule: RecurringSchedule) -> str:
    """How a schedule repeats, in words: "Every month on day 31 (or the month's last day)", "Every 2 weeks"."""
    one, many = UNIT_LABELS.get(schedule.unit, (schedule.unit, schedule.unit))
    text = f"Every {one}" if schedule.interval == 1 else f"Every {schedule.interval} {many}"
    if schedule.unit in ("month", "year"):
        day = schedule.day_of_month or schedule.start_on.day
        text += f" on day {day}" + (" (or the month's last day)" if day > 28 else "")
    return text


def parse_schedule_form(form: Mapping[str, Any], default_currency: str) -> tuple[ScheduleCreate | None, dict[str, str]]:
    """The form's strings -> ``ScheduleCreate`` (the API's rules): amount in the user's locale, whole numbers,
    tags separated by commas."""
    if not str(form.get("amount", "")).strip():
        return None, {"amount": f"Enter an amount. {format_message(current_locale.get())}"}
    currency = str(form.get("currency", "")).strip().upper() or default_currency
    values, errors = local_amount(form, "amount", currency)
    if errors:
        return None, errors
    for name in WHOLE_NUMBERS:
        raw = str(values.get(name, "")).strip()
        if not raw:
            values.pop(name, None)
        elif raw.isascii() and raw.isdigit():
            values[name] = int(raw)
        else:
            return None, {name: "Enter a whole number"}
    values["tags"] = [t for t in (part.strip() for part in str(form.get("tags", "")).split(",")) if t]
    return parse_form(ScheduleCreate, values, OPTIONAL)


def form_values(schedule: RecurringSchedule) -> dict[str, Any]:
    return {
        "title": schedule.title,
        "amount": amount_input(schedule.amount),
        "currency": schedule.currency,
        "category_id": str(schedule.category_id or ""),
        "tags": ", ".join(schedule.tag_names or []),
        "notes": schedule.notes,
        "unit": schedule.unit,
        "interval": str(schedule.interval),
        "day_of_month": str(schedule.day_of_month or ""),
        "start_on": schedule.start_on.isoformat(),
        "end_on": schedule.end_on.isoformat() if schedule.end_on else "",
        "max_count": str(schedule.max_count or ""),
    }


def _values(body: ScheduleCreate) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in body.__struct_fields__}
    if values.get("currency") is None:
        values.pop("currency")
    return values


class RecurringPages(Controller):
    path = "/recurring"
    include_in_schema = False
    opt = HTML_OPT

    @staticmethod
    def _blank(user: User) -> dict[str, Any]:
        return {
            "title": "",
            "amount": "",
            "currency": user.currency,
            "category_id": "",
            "tags": "",
            "notes": "",
            "unit": "month",
            "interval": "1",
            "day_of_month": "",
            "start_on": today_in(user.timezone).isoformat(),
            "end_on": "",
            "max_count": "",
        }

    async def _page(
        self,
        request: Request[User, Any, Any],
        recurring: Recurring,
        categories: Categories,
        expenses: Expenses,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        user = request.user
        schedules = await recurring.list_for(user.id)
        context.setdefault("form", self._blank(user))
        context.setdefault("errors", {})
        return render(
            request,
            "recurring.html",
            status_code=status_code,
            schedules=[(s, describe(s), next_on(s)) for s in schedules],
            categories=await categories.list_for(user.id),
            recent_currencies=await expenses.recent_currencies(user),
            **context,
        )

    @get("/")
    async def list_page(
        self, request: Request[User, Any, Any], recurring: Recurring, categories: Categories, expenses: Expenses
    ) -> Template:
        return await self._page(request, recurring, categories, expenses)

    @post("/")
    async def create(
        self,
        request: Request[User, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        recurring: Recurring,
        categories: Categories,
        expenses: Expenses,
    ) -> Template | Redirect:
        body, errors = parse_schedule_form(data, request.user.currency)
        if body is not None:
            try:
                await recurring.create_for(request.user, _values(body))
                return see_other("/recurring", msg="recurring-added")
            except FieldValidationError as exc:
                errors = exc.by_field()
        return await self._page(request, recurring, categories, expenses, 400, form=data, errors=errors)

    @get("/{schedule_id:uuid}/edit")
    async def edit_page(
        self,
        request: Request[User, Any, Any],
        schedule_id: FromPath[uuid.UUID],
        recurring: Recurring,
        categories: Categories,
        expenses: Expenses,
    ) -> Template:
        schedule = await recurring.get_owned(request.user.id, schedule_id)
        return await self._edit(request, schedule, form_values(schedule), {}, categories, expenses)

    async def _edit(
        self,
        request: Request[User, Any, Any],
        schedule: RecurringSchedule,
        form: Mapping[str, Any],
        errors: dict[str, str],
        categories: Categories,
        expenses: Expenses,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "recurring_form.html",
            status_code=status_code,
            schedule=schedule,
            form=form,
            errors=errors,
            categories=await categories.list_for(request.user.id),
            recent_currencies=await expenses.recent_currencies(request.user),
        )

    @post("/{schedule_id:uuid}")
    async def update(
        self,
        request: Request[User, Any, Any],
        schedule_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        recurring: Recurring,
        categories: Categories,
        expenses: Expenses,
    ) -> Template | Redirect:
        schedule = await recurring.get_owned(request.user.id, schedule_id)
        body, errors = parse_schedule_form(data, request.user.currency)
        if body is not None:
            values = _values(body)
            # Every field is on the form: blanks clear the optional ones (no end, no count, the start's day).
            for name in ("day_of_month", "end_on", "max_count", "category_id"):
                values.setdefault(name, None)
            try:
                await recurring.update_for(request.user, schedule_id, values)
                return see_other("/recurring", msg="recurring-saved")
            except FieldValidationError as exc:
                errors = exc.by_field()
        return await self._edit(request, schedule, data, errors, categories, expenses, 400)

    @post("/{schedule_id:uuid}/pause")
    async def pause(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> Redirect:
        await recurring.set_paused(request.user, schedule_id, True)
        return see_other("/recurring", msg="recurring-paused")

    @post("/{schedule_id:uuid}/resume")
    async def resume(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> Redirect:
        await recurring.set_paused(request.user, schedule_id, False)
        return see_other("/recurring", msg="recurring-resumed")

    @post("/{schedule_id:uuid}/delete")
    async def delete(
        self,
        request: Request[User, Any, Any],
        schedule_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        recurring: Recurring,
    ) -> Template | Redirect:
        if data.get("confirm") != "yes":  # without JavaScript the server asks (with it, a dialog did)
            schedule = await recurring.get_owned(request.user.id, schedule_id)
            return render(request, "recurring_delete.html", schedule=schedule, description=describe(schedule))
        item = await recurring.delete_for(request.user.id, schedule_id)
        return see_other("/recurring", msg="recurring-deleted", undo=str(item.id))
