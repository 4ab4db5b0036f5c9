"""Request parameters of the expense views, shared by the JSON API (listing, CSV export) and the expense pages."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from litestar.params import QueryParameter

from expense_tracker.domain.expenses import cursors
from expense_tracker.domain.expenses.schemas import NUL_MESSAGE, ExpenseFilters, SortKey
from expense_tracker.lib.money import AMOUNT_MESSAGE, parse_amount
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import optional, parse_range


def _amount(raw: str) -> Decimal:
    return parse_amount(raw, allow_zero=True)


async def provide_filters(
    date_from: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD.")] = None,
    category_id: Annotated[str | None, QueryParameter(description="A category id.")] = None,
    q: Annotated[str | None, QueryParameter(max_length=200, description="Text in title or notes.")] = None,
    min_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive.")] = None,
    max_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive.")] = None,
    sort: Annotated[SortKey, QueryParameter()] = "-spent_on",
) -> ExpenseFilters:
    """Query parameters shared by the listing, the CSV export and the UI table."""
    if q is not None and "\x00" in q:  # PostgreSQL cannot compare text containing U+0000
        raise FieldValidationError([{"field": "q", "message": NUL_MESSAGE}])
    start, end = parse_range(date_from, date_to)
    low = optional("min_amount", min_amount, _amount, AMOUNT_MESSAGE)
    high = optional("max_amount", max_amount, _amount, AMOUNT_MESSAGE)
    if low is not None and high is not None and low > high:
        raise FieldValidationError([{"field": "min_amount", "message": "must not exceed max_amount"}])
    return ExpenseFilters(
        date_from=start,
        date_to=end,
        category_id=optional("category_id", category_id, uuid.UUID, "is not a valid id"),
        q=q.strip() or None if q else None,
        min_amount=low,
        max_amount=high,
        sort=sort,
    )


def parse_cursor(secret: str, cursor: str | None, offset: int, filters: ExpenseFilters) -> cursors.Seek | None:
    """The ``cursor`` query parameter of a listing (API and page): where the page starts, or ``None`` for ``offset``.

    A cursor already says where the page starts, so an ``offset`` beside it is contradictory and refused.
    """
    if cursor is None or not cursor.strip():
        return None
    if offset:
        raise FieldValidationError([{"field": "cursor", "message": "cannot be combined with offset"}])
    return cursors.decode(secret, cursor.strip(), filters.sort)
