"""Request parameters of the expense views, shared by the JSON API (listing, CSV export) and the expense pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_args

from litestar.params import QueryParameter

from expense_tracker.domain.expenses import cursors
from expense_tracker.domain.expenses.schemas import NUL_MESSAGE, ExpenseFilters, SortKey, TagMode
from expense_tracker.domain.expenses.search import search_filters
from expense_tracker.domain.tags.schemas import TAGS_PER_EXPENSE_MAX, clean_tag_name
from expense_tracker.lib.locales import current_locale, parse_local_amount
from expense_tracker.lib.money import AMOUNT_MESSAGE, parse_amount, parse_currency
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import DATE_MESSAGE, optional, parse_date

T = TypeVar("T")
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
CURRENCY_FILTER_MESSAGE = "must be an ISO 4217 currency code such as USD or EUR"
Q_MAX_LENGTH = 200
FILTER_PARAMS = ("from", "to", "category_id", "currency", "q", "min_amount", "max_amount", "sort", "tag", "tag_mode")
"""The query parameters of a filtered view, as the client sends them (``tag`` may be repeated)."""
TAG_MODES: tuple[str, ...] = get_args(TagMode)


def _amount(raw: str) -> Decimal:
    return parse_amount(raw, allow_zero=True)


def _local_amount(field: str, raw: str | None, errors: list[dict[str, Any]]) -> Decimal | None:
    """A page filter's bound, typed in the user's locale (``12,50`` in de_DE); negative bounds select refunds."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_amount(parse_local_amount(raw, None, current_locale.get()), allow_zero=True)
    except ValueError as exc:
        errors.append({"field": field, "message": str(exc)})
        return None


def _tag_filter(values: Sequence[str], errors: list[dict[str, Any]]) -> tuple[str, ...]:
    """The ``tag`` parameters: names as tags are named (blank ones ignored, duplicates ignoring case once)."""
    names: dict[str, str] = {}
    for value in values:
        if not value.strip():
            continue
        try:
            name = clean_tag_name(value)
        except ValueError as exc:
            errors.append({"field": "tag", "message": str(exc)})
            continue
        names.setdefault(name.lower(), name)
    if len(names) > TAGS_PER_EXPENSE_MAX:
        errors.append({"field": "tag", "message": f"at most {TAGS_PER_EXPENSE_MAX} tags"})
    return tuple(names.values())


def parse_filters(params: Mapping[str, str | Sequence[str] | None], *, local_amounts: bool = False) -> ExpenseFilters:
    """The filters from their query parameters (by the names clients send: ``from``, ``to``, ...).

    Every parameter is checked, and one 400 names *every* bad one (a page shows each message next to its field).
    A currency filter takes any ISO 4217 code, withdrawn ones too: old expenses may be in them. With
    ``local_amounts`` (the expenses page) the amount bounds are typed in the user's locale (``12,50`` in de_DE) and a
    bad one is answered with that locale's expected format; the API's are machine format (``12.50``).
    """
    errors: list[dict[str, Any]] = []
    tag_values = params.get("tag")
    tags = _tag_filter([tag_values] if isinstance(tag_values, str) else list(tag_values or ()), errors)
    # Every other parameter is single: of a repeated one the last counts, as a browser's form would mean it.
    raw: dict[str, str | None] = {
        name: value if value is None or isinstance(value, str) else (value[-1] if value else None)
        for name, value in params.items()
    }
    tag_mode = (raw.get("tag_mode") or "").strip() or "any"
    if tag_mode not in TAG_MODES:
        errors.append({"field": "tag_mode", "message": f"must be one of {', '.join(TAG_MODES)}"})

    def check(field: str, parse: Callable[[str], T], message: str) -> T | None:
        try:
            return optional(field, raw.get(field), parse, message)
        except FieldValidationError as exc:
            errors.extend(exc.errors)
            return None

    q = raw.get("q")
    search = None
    if q is not None and "\x00" in q:  # PostgreSQL cannot compare text containing U+0000
        errors.append({"field": "q", "message": NUL_MESSAGE})
        q = None
    elif q is not None and len(q) > Q_MAX_LENGTH:
        errors.append({"field": "q", "message": f"must be at most {Q_MAX_LENGTH} characters"})
        q = None
    elif q is not None and q.strip():
        try:
            search = search_filters(q)
        except FieldValidationError as exc:
            errors.extend(exc.errors)
    start = check("from", parse_date, DATE_MESSAGE)
    end = check("to", parse_date, DATE_MESSAGE)
    if start is not None and end is not None and start > end:
        errors.append({"field": "from", "message": "must not be after 'to'"})
    category_id = check("category_id", uuid.UUID, "is not a valid id")
    currency = check("currency", parse_currency, CURRENCY_FILTER_MESSAGE)
    if local_amounts:
        low = _local_amount("min_amount", raw.get("min_amount"), errors)
        high = _local_amount("max_amount", raw.get("max_amount"), errors)
    else:
        low = check("min_amount", _amount, AMOUNT_MESSAGE)
        high = check("max_amount", _amount, AMOUNT_MESSAGE)
    if low is not None and high is not None and low > high:
        errors.append({"field": "min_amount", "message": "must not exceed max_amount"})
    sort = (raw.get("sort") or "").strip() or "-spent_on"
    if sort not in SORT_KEYS:
        errors.append({"field": "sort", "message": f"must be one of {', '.join(SORT_KEYS)}"})
    if errors:
        raise FieldValidationError(errors)
    return ExpenseFilters(
        date_from=start,
        date_to=end,
        category_id=category_id,
        currency=currency,
        q=q.strip() or None if q else None,
        min_amount=low,
        max_amount=high,
        sort=sort,  # type: ignore[arg-type] # checked against SortKey above
        search=search,
        tags=tags,
        tag_mode=tag_mode,  # type: ignore[arg-type] # checked against TagMode above
    )


async def provide_filters(
    date_from: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD.")] = None,
    category_id: Annotated[str | None, QueryParameter(description="A category id.")] = None,
    currency: Annotated[
        str | None, QueryParameter(max_length=3, description="Only expenses in this ISO 4217 currency, e.g. EUR.")
    ] = None,
    q: Annotated[
        str | None,
        QueryParameter(
            max_length=Q_MAX_LENGTH,
            description='Search: words and "phrases" matched in title or notes ignoring case, accents and '
            "apostrophes, as word prefixes or with typos (PostgreSQL); operators `amount:>100`, `amount:<5`, "
            "`amount:12.50`, `before:2026-01-01`, `after:2025-12-31`, `category:Groceries`, `currency:EUR`, "
            "`tag:food` (values with spaces in quotes). A bad operator value is a 400 naming it.",
        ),
    ] = None,
    min_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive; negative: refunds.")] = None,
    max_amount: Annotated[str | None, QueryParameter(description="Decimal, inclusive; negative: refunds.")] = None,
    sort: Annotated[
        SortKey,
        QueryParameter(
            description="`amount` and `-amount` order by currency, then amount (an amount is only compared with "
            "amounts in the same currency), then id."
        ),
    ] = "-spent_on",
    tag: Annotated[
        list[str] | None,
        QueryParameter(
            description="A tag name (ignoring case); repeat for several. See `tag_mode`. "
            "An unknown name matches nothing."
        ),
    ] = None,
    tag_mode: Annotated[
        TagMode,
        QueryParameter(
            description="With several `tag`: `any` (at least one of them, the default) or `all` (every one)."
        ),
    ] = "any",
) -> ExpenseFilters:
    """Query parameters shared by the listing, the CSV export, the totals and the UI table."""
    values = (date_from, date_to, category_id, currency, q, min_amount, max_amount, sort, tag, tag_mode)
    return parse_filters(dict(zip(FILTER_PARAMS, values, strict=True)))


def parse_cursor(secret: str, cursor: str | None, offset: int, filters: ExpenseFilters) -> cursors.Seek | None:
    """The ``cursor`` query parameter of a listing (API and page): where the page starts, or ``None`` for ``offset``.

    A cursor already says where the page starts, so an ``offset`` beside it is contradictory and refused.
    """
    if cursor is None or not cursor.strip():
        return None
    if offset:
        raise FieldValidationError([{"field": "cursor", "message": "cannot be combined with offset"}])
    return cursors.decode(secret, cursor.strip(), filters.sort)
