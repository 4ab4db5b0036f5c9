"""HTML forms are validated by the same msgspec Structs as the JSON API, so the rules live in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from expense_tracker.domain.expenses.schemas import ExpenseCreate
from expense_tracker.lib.locales import current_locale, format_message, parse_local_amount
from expense_tracker.lib.money import currency_codes
from expense_tracker.lib.problems import split_field

T = TypeVar("T")


def parse_form(
    struct: type[T], form: Mapping[str, Any], optional: frozenset[str] = frozenset()
) -> tuple[T | None, dict[str, str]]:
    """Convert form strings into ``struct``; blank ``optional`` fields are left out so their defaults apply.

    Returns the value or, when invalid, a ``{field: message}`` map to show next to the inputs.
    """
    fields: tuple[str, ...] = getattr(struct, "__struct_fields__", ())
    values = {k: v for k, v in form.items() if k in fields and not (k in optional and str(v).strip() == "")}
    try:
        # Strict: form values are strings and every field type accepts its string form anyway; lax mode would also
        # turn the text "null" into None (a blank date becoming "today") and "1"/"true" into numbers and booleans.
        return msgspec.convert(values, struct, strict=True), {}
    except msgspec.ValidationError as exc:
        field, message = split_field(str(exc), "form")
        return None, {field: message[:1].upper() + message[1:]}


def parse_expense_form(
    form: Mapping[str, Any], optional: frozenset[str], default_currency: str
) -> tuple[ExpenseCreate | None, dict[str, str]]:
    """The expense form: the amount is read in the user's locale (``12,50`` in de_DE, ``$45`` in en_US), ticking
    "This is a refund" makes it negative (so does a minus sign), then the same Struct as the API checks the rest.

    The page re-renders ``form`` itself on error, so the person sees what they typed, not a normalised value.
    """
    locale = current_locale.get()
    raw = str(form.get("amount", ""))
    if not raw.strip():
        return None, {"amount": f"Enter an amount. {format_message(locale)}"}
    code = str(form.get("currency", "")).strip().upper() or default_currency
    try:
        amount = parse_local_amount(raw, code if code in currency_codes() else None, locale)
    except ValueError as exc:
        return None, {"amount": str(exc)}
    if form.get("refund") and amount > 0:
        amount = -amount
    return parse_form(ExpenseCreate, {**form, "amount": format(amount, "f")}, optional)
