"""Tag names and the tag API's bodies.

A name is trimmed with inner runs of spaces collapsed, 1 to ``TAG_NAME_MAX`` characters, and may not contain ``,``
or ``;``: the expense form separates tags with commas and the CSV ``tags`` column with semicolons, so a name holding
either could never come back unchanged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

import msgspec

from expense_tracker.lib.problems import field_error

TAG_NAME_MAX = 50
TAGS_PER_EXPENSE_MAX = 20
"""More tags than this on one expense is refused: tags are labels to filter by, not free text."""
TAG_SEPARATORS = (",", ";")
FORM_SEPARATOR = ","
CSV_SEPARATOR = ";"
CSV_JOIN = "; "


def clean_tag_name(value: str) -> str:
    """The name as stored (raises ``ValueError`` with the reason)."""
    if "\x00" in value:  # PostgreSQL cannot store it
        raise ValueError("must not contain NUL characters")
    name = " ".join(value.split())
    if not 1 <= len(name) <= TAG_NAME_MAX:
        raise ValueError(f"must be 1 to {TAG_NAME_MAX} characters")
    if any(sep in name for sep in TAG_SEPARATORS):
        raise ValueError("must not contain a comma or a semicolon")
    return name


def clean_tag_names(values: Iterable[str]) -> list[str]:
    """An expense's tag names: each cleaned, blanks dropped, duplicates (ignoring case) kept once, first spelling."""
    names: dict[str, str] = {}
    for value in values:
        if not value.strip():
            continue
        try:
            name = clean_tag_name(value)
        except ValueError as exc:
            # Name the tag: the field holds several, and the person has to find the one to fix.
            shown = " ".join(value.split())
            shown = shown if len(shown) <= 20 else shown[:20] + "…"
            raise ValueError(f"each tag {exc} (not “{shown}”)") from None
        names.setdefault(name.lower(), name)
    if len(names) > TAGS_PER_EXPENSE_MAX:
        raise ValueError(f"at most {TAGS_PER_EXPENSE_MAX} tags per expense")
    return list(names.values())


def split_tag_text(text: str, separator: str = FORM_SEPARATOR) -> list[str]:
    """``"food, trip"`` -> ``["food", "trip"]`` (the form's text input; the CSV column with ``;``)."""
    return [part for part in text.split(separator) if part.strip()]


def _name(value: str) -> str:
    try:
        return clean_tag_name(value)
    except ValueError as exc:
        raise field_error("name", str(exc)) from None


class TagRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    expense_count: Annotated[int, msgspec.Meta(description="How many of your expenses carry this tag.")]
    created_at: dt.datetime


class TagCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(description=f"1 to {TAG_NAME_MAX} characters, no comma or semicolon.")]

    def __post_init__(self) -> None:
        self.name = _name(self.name)


class TagUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[
        str,
        msgspec.Meta(description="The new name; another of your tags with it (ignoring case) is a 409: merge instead."),
    ]

    def __post_init__(self) -> None:
        self.name = _name(self.name)


class TagMerge(msgspec.Struct, forbid_unknown_fields=True):
    into: Annotated[
        uuid.UUID,
        msgspec.Meta(
            description="The tag that stays: every expense of the merged tag gets it; the merged tag is deleted."
        ),
    ]


class TagSpending(msgspec.Struct):
    tag_id: uuid.UUID
    name: str
    currency: str
    total: Decimal
    """Signed sum of the amounts in this currency with this tag (refunds reduce it)."""
    count: int


class UntaggedSpending(msgspec.Struct):
    currency: str
    total: Decimal
    count: int


class ByTag(msgspec.Struct):
    """Spending per tag and currency. An expense with two tags counts in both, so the lines may add up to more than
    the period's total; ``untagged`` is what no tag covers."""

    date_from: dt.date = msgspec.field(name="from")
    date_to: dt.date = msgspec.field(name="to")
    tags: list[TagSpending] = msgspec.field(default_factory=list)
    """By currency code, then largest total first, then name."""
    untagged: list[UntaggedSpending] = msgspec.field(default_factory=list)
    """Per currency: the period's expenses without any tag."""
