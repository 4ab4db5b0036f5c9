"""HTML forms are validated by the same msgspec Structs as the JSON API, so the rules live in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

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
