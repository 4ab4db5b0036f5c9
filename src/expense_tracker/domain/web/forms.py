"""HTML forms are validated by the same msgspec Structs as the JSON API, so the rules live in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from expense_tracker.domain.expenses.schemas import ExpenseCreate
from expense_tracker.domain.tags.schemas import split_tag_text
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


def local_amount(form: Mapping[str, Any], field: str, currency: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """``form`` with ``field`` (typed in the user's locale: ``12,50`` in de_DE, ``$45`` in en_US) in the machine
    format the Structs take, or the message saying the format expected. A blank field is left to the Struct."""
    raw = str(form.get(field, ""))
    if not raw.strip():
        return dict(form), {}
    try:
        amount = parse_local_amount(raw, currency if currency in currency_codes() else None, current_locale.get())
    except ValueError as exc:
        return dict(form), {field: str(exc)}
    return {**form, field: format(amount, "f")}, {}


def parse_expense_form(
    form: Mapping[str, Any], optional: frozenset[str], default_currency: str
) -> tuple[ExpenseCreate | None, dict[str, str]]:
    """The expense form: the amount is read in the user's locale (:func:`local_amount`), ticking "This is a refund"
    makes it negative (so does a minus sign), then the same Struct as the API checks the rest.

    The page re-renders ``form`` itself on error, so the person sees what they typed, not a normalised value.
    """
    if not str(form.get("amount", "")).strip():
        return None, {"amount": f"Enter an amount. {format_message(current_locale.get())}"}
    currency = str(form.get("currency", "")).strip().upper() or default_currency
    values, errors = local_amount(form, "amount", currency)
    if errors:
        return None, errors
    if form.get("refund") and not values["amount"].startswith("-"):
        values["amount"] = "-" + values["amount"]
    if "tags" in values:  # one text input, names separated by commas
        values["tags"] = split_tag_text(str(values["tags"]))
    return parse_form(ExpenseCreate, values, optional)
