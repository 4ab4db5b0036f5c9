"""The split payment pages: one form for the payment (title, total, currency, date) and its parts (category, amount,
note), over the same :class:`SplitService` as ``/api/splits``.

Without JavaScript the form shows ``SPLIT_FORM_ROWS`` part rows and "Add a part" submits it for one more (blank rows
are ignored); ``static/splits.js`` adds rows in place and keeps the remaining amount up to date as one types. Errors
are shown next to their row, and a sum that does not match names the difference in the user's locale.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from babel.numbers import get_decimal_symbol, get_group_symbol
from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import SPLIT_FORM_ROWS, SPLIT_PARTS_MAX
from expense_tracker.db.models import User
from expense_tracker.dependencies import Categories, Expenses, Splits
from expense_tracker.domain.accounts.auth import safe_next
from expense_tracker.domain.splits.schemas import SplitRead, SplitUpdate
from expense_tracker.domain.splits.services import SplitSumError
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import local_amount
from expense_tracker.lib.formatting import money
from expense_tracker.lib.locales import current_locale, format_message, input_amount
from expense_tracker.lib.problems import FieldValidationError, split_field
from expense_tracker.lib.timezones import today_in

_PART_MESSAGE = re.compile(r"^part (?P<number>\d+): (?P<field>amount|category|notes|id) ?(?P<message>.*)$")
_SHARED = ("title", "amount", "currency", "spent_on", "refund", "expense_id")


def _rows(value: Any, parts: int = 0) -> int:
    """How many part rows the form shows: what it asked for, at least the parts it has, within the limits."""
    try:
        asked = int(str(value))
    except ValueError:
        asked = SPLIT_FORM_ROWS
    return max(2, parts, min(asked, SPLIT_PARTS_MAX))


def _form_of(split: SplitRead) -> dict[str, Any]:
    locale = current_locale.get()
    form: dict[str, Any] = {
        "title": split.title,
        "amount": input_amount(abs(split.amount), locale),
        "refund": "yes" if split.amount < 0 else "",
        "currency": split.currency,
        "spent_on": split.spent_on.isoformat(),
        "rows": str(len(split.parts)),
    }
    for index, part in enumerate(split.parts):
        form[f"part-{index}-id"] = str(part.id)
        form[f"part-{index}-category_id"] = str(part.category_id or "")
        form[f"part-{index}-amount"] = input_amount(abs(part.amount), locale)
        form[f"part-{index}-notes"] = part.notes
    return form


def _amount_or_none(text: str, currency: str) -> Decimal | None:
    values, errors = local_amount({"a": text}, "a", currency)
    return None if errors or not str(text).strip() else Decimal(values["a"])


def remaining(form: Mapping[str, Any], currency: str, rows: int) -> Decimal | None:
    """What is left to assign of the total (``None`` while the total cannot be read): shown under the parts."""
    total = _amount_or_none(str(form.get("amount", "")), currency)
    if total is None:
        return None
    assigned = sum(
        (abs(a) for i in range(rows) if (a := _amount_or_none(str(form.get(f"part-{i}-amount", "")), currency))),
        Decimal("0.00"),
    )
    return abs(total) - assigned


def parse_split_form(
    form: Mapping[str, Any], default_currency: str, rows: int
) -> tuple[SplitUpdate | None, dict[str, str], list[int]]:
    """The form as the API's body, or the errors by input name; and which row each part came from (blank rows are
    left out, so the service's "part 2" is the second filled row)."""
    errors: dict[str, str] = {}
    currency = str(form.get("currency", "")).strip().upper() or default_currency
    negative = bool(form.get("refund"))
    locale = current_locale.get()

    def amount(name: str) -> str | None:
        raw = str(form.get(name, "")).strip()
        if not raw:
            errors[name] = f"Enter an amount. {format_message(locale)}"
            return None
        values, problems = local_amount(form, name, currency)
        if problems:
            errors.update(problems)
            return None
        text = str(values[name])
        # "This is a refund" makes the total and every part money back (a minus sign typed anywhere does the same).
        return "-" + text if negative and not text.startswith("-") else text

    total = amount("amount")
    used: list[int] = []
    parts: list[dict[str, Any]] = []
    for index in range(rows):
        prefix = f"part-{index}-"
        if not str(form.get(prefix + "amount", "")).strip() and not str(form.get(prefix + "notes", "")).strip():
            continue  # a blank row (its category select alone does not make a part)
        part_amount = amount(prefix + "amount")
        if part_amount is not None and total is not None and total.startswith("-") and not part_amount.startswith("-"):
            part_amount = "-" + part_amount
        used.append(index)
        parts.append(
            {
                "amount": part_amount or "0",
                "category_id": str(form.get(prefix + "category_id", "")) or None,
                "notes": str(form.get(prefix + "notes", "")),
                "id": str(form.get(prefix + "id", "")) or None,
            }
        )
    if len(parts) < 2 and "parts" not in errors:
        errors["parts"] = "Enter at least 2 parts: an amount for each category."
    if errors:
        return None, errors, used
    body = {
        "title": form.get("title", ""),
        "amount": total,
        "currency": currency,
        "spent_on": str(form.get("spent_on", "")).strip() or None,
        "parts": parts,
        "expense_id": str(form.get("expense_id", "")).strip() or None,  # an expense being split up (new splits)
    }
    try:
        return msgspec.convert(body, SplitUpdate, strict=False), {}, used
    except msgspec.ValidationError as exc:
        field, message = split_field(str(exc), "form")
        return None, _by_input(field, message, used), used


def _by_input(field: str, message: str, used: list[int]) -> dict[str, str]:
    """A service or struct error as ``{input name: message}``: "part 2: amount ..." goes next to that row's amount."""
    if field == "parts" and (match := _PART_MESSAGE.match(message)):
        number = int(match["number"])
        index = used[number - 1] if 0 < number <= len(used) else 0
        name = {"category": "category_id", "id": "amount"}.get(match["field"], match["field"])
        text = match["message"] or message
        return {f"part-{index}-{name}": text[:1].upper() + text[1:]}
    if match := re.match(r"^parts\[(\d+)\]\.(amount|notes|category_id)$", field):
        index = used[int(match[1])] if int(match[1]) < len(used) else 0
        field = f"part-{index}-{match[2]}"
    return {field: message[:1].upper() + message[1:]}


def _service_errors(exc: FieldValidationError, used: list[int]) -> dict[str, str]:
    if isinstance(exc, SplitSumError):
        # Sizes, as the form shows them (a refund is the ticked box, not a minus sign), in the user's locale.
        way = "less" if abs(exc.parts_sum) < abs(exc.total) else "more"
        return {
            "parts": (
                f"The parts add up to {money(abs(exc.parts_sum), exc.currency)}, "
                f"{money(abs(exc.difference), exc.currency)} {way} than the total "
                f"{money(abs(exc.total), exc.currency)}."
            )
        }
    errors: dict[str, str] = {}
    for error in reversed(exc.errors):
        errors.update(_by_input(str(error["field"]), str(error["message"]), used))
    return errors


class SplitPages(Controller):
    path = "/splits"
    include_in_schema = False
    opt = HTML_OPT

    async def _render(
        self,
        request: Request[User, Any, Any],
        categories: Categories,
        expenses: Expenses,
        *,
        form: Mapping[str, Any],
        errors: dict[str, str],
        split_id: uuid.UUID | None,
        next_path: str,
        status_code: int = 200,
    ) -> Template:
        user = request.user
        rows = _rows(form.get("rows", SPLIT_FORM_ROWS))
        currency = str(form.get("currency", "")).strip().upper() or user.currency
        locale = current_locale.get()
        return render(
            request,
            "split_form.html",
            status_code=status_code,
            split_id=split_id,
            form=form,
            errors=errors,
            rows=rows,
            remaining=remaining(form, currency, rows) if currency.isalpha() and len(currency) == 3 else None,
            currency=currency,
            categories=await categories.list_for(user.id),
            recent_currencies=await expenses.recent_currencies(user),
            next_path=next_path,
            js_locale=locale.replace("_", "-"),
            decimal_symbol=get_decimal_symbol(locale),
            group_symbol=get_group_symbol(locale),
        )

    @get("/new")
    async def new_page(
        self,
        request: Request[User, Any, Any],
        categories: Categories,
        expenses: Expenses,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Template:
        """A blank split form, or the expense form's values when its "Split" button sent them here."""
        user = request.user
        query = request.query_params
        form: dict[str, Any] = {name: query.get(name, "") for name in _SHARED}
        form["currency"] = form["currency"] or user.currency
        form["spent_on"] = form["spent_on"] or today_in(user.timezone).isoformat()
        # The expense's category and notes become the first part's (an existing expense split up keeps them there).
        form["part-0-category_id"] = query.get("category_id", "")
        form["part-0-notes"] = query.get("notes", "")
        form["rows"] = str(SPLIT_FORM_ROWS)
        return await self._render(
            request,
            categories,
            expenses,
            form=form,
            errors={},
            split_id=None,
            next_path=safe_next(next_path or "/expenses"),
        )

    @post("/")
    async def create(
        self,
        request: Request[User, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        expenses: Expenses,
        splits: Splits,
    ) -> Template | Redirect:
        return await self._submit(request, data, categories, expenses, splits, None)

    @get("/{split_id:uuid}/edit")
    async def edit_page(
        self,
        request: Request[User, Any, Any],
        split_id: FromPath[uuid.UUID],
        categories: Categories,
        expenses: Expenses,
        splits: Splits,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Template:
        split = await splits.read_split(request.user.id, split_id)
        return await self._render(
            request,
            categories,
            expenses,
            form=_form_of(split),
            errors={},
            split_id=split_id,
            next_path=safe_next(next_path or "/expenses"),
        )

    @post("/{split_id:uuid}")
    async def update(
        self,
        request: Request[User, Any, Any],
        split_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        categories: Categories,
        expenses: Expenses,
        splits: Splits,
    ) -> Template | Redirect:
        await splits.read_split(request.user.id, split_id)  # another user's split: 404 before anything else
        return await self._submit(request, data, categories, expenses, splits, split_id)

    async def _submit(
        self,
        request: Request[User, Any, Any],
        data: dict[str, str],
        categories: Categories,
        expenses: Expenses,
        splits: Splits,
        split_id: uuid.UUID | None,
    ) -> Template | Redirect:
        user = request.user
        next_path = safe_next(data.get("next") or "/expenses")
        rows = _rows(data.get("rows", SPLIT_FORM_ROWS))
        form: dict[str, Any] = dict(data)
        if data.get("action") == "add":
            # Without JavaScript: the same form again with one more (blank) part row, nothing stored yet.
            form["rows"] = str(min(rows + 1, SPLIT_PARTS_MAX))
            return await self._render(
                request, categories, expenses, form=form, errors={}, split_id=split_id, next_path=next_path
            )
        body, errors, used = parse_split_form(data, user.currency, rows)
        if body is not None:
            try:
                if split_id is None:
                    await splits.create_split(user, body, source="ui")  # part ids play no part in a new split
                else:
                    await splits.replace_split(user, split_id, body, source="ui")
            except FieldValidationError as exc:
                errors = _service_errors(exc, used)
            else:
                return see_other(next_path, msg="split-saved" if split_id else "split-added")
        return await self._render(
            request,
            categories,
            expenses,
            form=form,
            errors=errors,
            split_id=split_id,
            next_path=next_path,
            status_code=400,
        )

    @get("/{split_id:uuid}/delete")
    async def delete_page(
        self,
        request: Request[User, Any, Any],
        split_id: FromPath[uuid.UUID],
        splits: Splits,
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Template:
        """The no-JavaScript confirmation step (with JavaScript a dialog asks instead)."""
        split = await splits.read_split(request.user.id, split_id)
        return render(request, "split_delete.html", split=split, next_path=safe_next(next_path or "/expenses"))

    @post("/{split_id:uuid}/delete")
    async def delete(
        self,
        request: Request[User, Any, Any],
        split_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        splits: Splits,
    ) -> Template | Redirect:
        next_path = safe_next(data.get("next") or "/expenses")
        if data.get("confirm") != "yes":
            split = await splits.read_split(request.user.id, split_id)
            return render(request, "split_delete.html", split=split, next_path=next_path)
        item = await splits.delete_split(request.user.id, split_id)
        return see_other(next_path, msg="split-deleted", undo=str(item.id))
