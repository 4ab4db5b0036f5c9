"""Strict parsing of query parameters shared by the API and the pages (a blank value means "not given")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TypeVar

from expense_tracker.lib.problems import FieldValidationError

T = TypeVar("T")
DATE_MESSAGE = "must be a date as YYYY-MM-DD"
# ASCII only: date.fromisoformat() alone also takes "20240102" and other ISO 8601 spellings.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(raw: str) -> dt.date:
    if not _DATE.match(raw):
        raise ValueError(DATE_MESSAGE)
    return dt.date.fromisoformat(raw)


def optional(field: str, raw: str | None, parse: Callable[[str], T], message: str) -> T | None:
    """Blank means "not filtering" (HTML filter forms send empty fields); anything else must parse or is a 400.

    The literal text ``null`` is not blank: it is refused like any other value that does not parse.
    """
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw.strip())
    except ValueError:
        raise FieldValidationError([{"field": field, "message": message}]) from None


def parse_range(
    raw_from: str | None, raw_to: str | None, default_from: dt.date | None = None, default_to: dt.date | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """The ``from``/``to`` query pair (blank means the default), refused when ``from`` is after ``to``.

    The one place this rule lives: the expense filters and the report period, in the API and the pages, all come here.
    """
    start = optional("from", raw_from, parse_date, DATE_MESSAGE) or default_from
    end = optional("to", raw_to, parse_date, DATE_MESSAGE) or default_to
    if start is not None and end is not None and start > end:
        raise FieldValidationError([{"field": "from", "message": "must not be after 'to'"}])
    return start, end
