"""Request parameters of the expense views, shared by the JSON API (listing, CSV export) and the expense pages."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from litestar.params import QueryParameter

from expense_tracker.domain.expenses import cursors
from expense_tracker.domain.expenses.schemas import NUL_MESSAGE, ExpenseFilters, SortKey
from expense_tracker.lib.locales import current_locale, parse_local_amount
from expense_tracker.lib.money import AMOUNT_MESSAGE, parse_amount
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import optional, parse_range


def _amount(raw: str) -> Decimal:
    return parse_amount(raw, allow_zero=True)


def _local_amount(field: str, raw: str | None) -> Decimal | None:
    """A page filter's bound, typed in the user's locale (``12,50`` in de_DE); negative bounds select refunds."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_amount(parse_local_amount(raw, None, current_locale.get()), allow_zero=True)
    except ValueError as exc:
        raise FieldValidationError([{"field": field, "message": str(exc)}]) from None


async def provide_filters(
    date_from: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD.")] = None,
    category_id: Annotated[str | None, QueryParameter(description="A category id.")] = None,
    q: Annotated[str | None, QueryParameter(max_length=200, description="Text in title or notes.")] = None,
    min_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive; negative: refunds.")] = None,
    max_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive; negative: refunds.")] = None,
    sort: Annotated[SortKey, QueryParameter()] = "-spent_on",
) -> ExpenseFilters:
    """Query parameters shared by the listing and the CSV export (machine format: ``min_amount=12.50``)."""
    low = optional("min_amount", min_amount, _amount, AMOUNT_MESSAGE)
    high = optional("max_amount", max_amount, _amount, AMOUNT_MESSAGE)
    return build_filters(date_from, date_to, category_id, q, low, high, sort)


async def provide_page_filters(
    date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to")] = None,
    category_id: Annotated[str | None, QueryParameter()] = None,
    q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    min_amount: Annotated[str | None, QueryParameter()] = None,
    max_amount: Annotated[str | None, QueryParameter()] = None,
    sort: Annotated[SortKey, QueryParameter()] = "-spent_on",
) -> ExpenseFilters:
    """The same filters on the expenses page, whose amount bounds are typed in the user's locale."""
    low = _local_amount("min_amount", min_amount)
    high = _local_amount("max_amount", max_amount)
    return build_filters(date_from, date_to, category_id, q, low, high, sort)


def build_filters(
    date_from: str | None,
    date_to: str | None,
    category_id: str | None,
    q: str | None,
    low: Decimal | None,
    high: Decimal | None,
    sort: SortKey,
) -> ExpenseFilters:
    if q is not None and "\x00" in q:  # PostgreSQL cannot compare text containing U+0000
        raise FieldValidationError([{"field": "q", "message": NUL_MESSAGE}])
    start, end = parse_range(date_from, date_to)
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
