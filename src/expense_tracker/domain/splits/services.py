"""Split payments: one payment (a supermarket receipt) spread over categories as 2+ expense rows sharing ``split_id``.

The parts are ordinary expenses, created through :class:`ExpenseService` (same currency, decimals and category
rules, same metric), so every total that counts by category (the month aggregates, reports, budgets, the dashboard)
counts each part in its own category with no special case. What this service adds is the payment's rules:

- 2 to ``SPLIT_PARTS_MAX`` parts whose amounts add up to the total exactly (``Decimal``, never floats), else a 400
  naming the difference;
- one title, date and currency for all parts; each part its own category, amount and notes;
- every part has the sign of the total. A payment's parts are all spending and a split refund's parts all money back:
  a negative part inside a payment (a returned bottle deposit on the receipt) is recorded as its own refund, so a
  part never hides money back inside a larger total and "spent on groceries" never exceeds what was paid.

A part is changed or deleted only through its split (``ExpenseService`` answers 409 for it), so the parts always add
up to what was paid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, select
from uuid_utils.compat import uuid7

from expense_tracker.db.models import Expense, TrashItem, User
from expense_tracker.domain.expenses.schemas import ExpenseRead
from expense_tracker.domain.expenses.services import READ_COLUMNS, ExpenseService, ExpenseSource, SplitPartError
from expense_tracker.domain.splits.schemas import SplitCreate, SplitPartUpdate, SplitRead, SplitUpdate
from expense_tracker.domain.tags.services import set_expense_tags, tag_names
from expense_tracker.domain.trash.services import TrashService
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.money import check_decimals
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import today_in


class SplitSumError(FieldValidationError):
    """The parts do not add up to the total: a 400 naming the difference (the pages word it in the user's locale)."""

    def __init__(self, total: Decimal, parts_sum: Decimal, currency: str) -> None:
        self.total, self.parts_sum, self.currency = total, parts_sum, currency
        self.difference = total - parts_sum
        """What is left to assign (negative: assigned too much)."""
        way = "less" if abs(parts_sum) < abs(total) else "more"
        message = (
            f"the parts add up to {parts_sum:f} {currency}, {abs(self.difference):f} {way} than the amount "
            f"{total:f} {currency}"
        )
        super().__init__([{"field": "parts", "message": message}], detail=f"The parts must add up to {total:f}.")


@dataclass(frozen=True)
class SplitBadge:
    """Where an expense on a list page stands in its split: "Split 1/2 of $42.50"."""

    number: int
    count: int
    total: Decimal
    currency: str


class SplitService(SQLAlchemyAsyncRepositoryService[Expense]):
    class Repo(SQLAlchemyAsyncRepository[Expense]):
        model_type = Expense

    repository_type = Repo

    @cached_property
    def expenses(self) -> ExpenseService:
        """The parts' own service, on this session: a split is stored in one transaction with its parts."""
        return ExpenseService(session=self.repository.session)

    async def _parts(self, user_id: uuid.UUID, split_id: uuid.UUID) -> list[Expense]:
        statement = select(Expense).where(Expense.user_id == user_id, Expense.split_id == split_id).order_by(Expense.id)
        parts = list((await self.repository.session.scalars(statement)).all())
        if not parts:
            raise NotFoundError(f"split {split_id}")  # missing or another user's: the same 404
        return parts

    async def read_split(self, user_id: uuid.UUID, split_id: uuid.UUID) -> SplitRead:
        """The split with its parts in the order they were entered (ids are time-ordered UUIDv7)."""
        statement = (
            select(*READ_COLUMNS).where(Expense.user_id == user_id, Expense.split_id == split_id).order_by(Expense.id)
        )
        parts = [ExpenseRead(*row) for row in await self.repository.session.execute(statement)]
        if not parts:
            raise NotFoundError(f"split {split_id}")
        names = await tag_names(self.repository.session, [p.id for p in parts])
        for part in parts:
            part.tags = names.get(part.id, [])
        first = parts[0]
        return SplitRead(
            id=split_id,
            title=first.title,
            amount=sum((Decimal(p.amount) for p in parts), Decimal("0.00")),
            currency=first.currency,
            spent_on=first.spent_on,
            parts=parts,
            tags=first.tags,
        )

    async def _check(self, user: User, data: SplitCreate, currency: str, stored_currency: str | None) -> None:
        """The payment's rules (module docstring); each part's own rules are checked again by ExpenseService."""
        if problem := check_chosen_currency(currency, stored_currency):
            raise FieldValidationError([{"field": "currency", "message": problem}])
        try:
            check_decimals(data.amount, currency)
        except ValueError as exc:
            raise FieldValidationError([{"field": "amount", "message": str(exc)}]) from None
        errors: list[dict[str, Any]] = []
        owned: dict[uuid.UUID, bool] = {}
        for number, part in enumerate(data.parts, start=1):
            try:
                check_decimals(part.amount, currency)
            except ValueError as exc:
                errors.append({"field": "parts", "message": f"part {number}: amount {exc}"})
            if (part.amount < 0) != (data.amount < 0):
                sign = "negative, like the amount (a split refund)" if data.amount < 0 else "positive, like the amount"
                errors.append({"field": "parts", "message": f"part {number}: amount must be {sign}"})
            if part.category_id is not None:
                if part.category_id not in owned:
                    owned[part.category_id] = await self.expenses.categories.owns(user.id, part.category_id)
                if not owned[part.category_id]:
                    errors.append({"field": "parts", "message": f"part {number}: category is not one of yours"})
        if errors:
            raise FieldValidationError(errors)
        parts_sum = sum((part.amount for part in data.parts), Decimal("0.00"))
        if parts_sum != data.amount:
            raise SplitSumError(data.amount, parts_sum, currency)

    async def create_split(self, user: User, data: SplitCreate, source: ExpenseSource) -> SplitRead:
        """A new split; with ``expense_id``, that ordinary expense split up: it becomes the first part (same id, so
        whatever refers to it, an import's duplicate key, stays with it), and its date is kept unless one is given."""
        existing = None
        if data.expense_id is not None:
            existing = await self.expenses.get_owned(user.id, data.expense_id)
            if existing.split_id is not None:
                raise SplitPartError(existing.split_id)
        currency = data.currency or (existing.currency if existing else user.currency)
        await self._check(user, data, currency, existing.currency if existing else None)
        split_id = uuid7()
        spent_on = data.spent_on or (existing.spent_on if existing else today_in(user.timezone))
        parts = list(data.parts)
        if existing is not None:
            first = parts.pop(0)
            values = {"title": data.title, "amount": first.amount, "currency": currency, "spent_on": spent_on}
            values |= {"category_id": first.category_id, "notes": first.notes, "split_id": split_id}
            for key, value in values.items():
                setattr(existing, key, value)
            existing.updated_at = dt.datetime.now(dt.UTC)
            await self.repository.session.flush()
        for part in parts:
            values = {
                "title": data.title,
                "amount": part.amount,
                "currency": currency,
                "category_id": part.category_id,
                "spent_on": spent_on,
                "notes": part.notes,
                "split_id": split_id,
            }
            await self.expenses.create_for(user, values, source)
        if data.tags:  # one payment, one set of tags: on every part (the split-up expense's own are replaced)
            await set_expense_tags(self.repository.session, user.id, await self._part_ids(user.id, split_id), data.tags)
        return await self.read_split(user.id, split_id)

    async def _part_ids(self, user_id: uuid.UUID, split_id: uuid.UUID) -> list[uuid.UUID]:
        return [part.id for part in await self._parts(user_id, split_id)]

    async def replace_split(
        self, user: User, split_id: uuid.UUID, data: SplitUpdate, source: ExpenseSource
    ) -> SplitRead:
        """The split as ``data`` says (PUT). Parts keep their ids where possible: a part sent with its ``id``, then an
        unchanged part (same category, amount and notes), then the remaining old parts in order take the remaining new
        ones; only the surplus is inserted or deleted. Whatever refers to a kept part (an import's duplicate key) stays.
        """
        if data.expense_id is not None:
            raise FieldValidationError([{"field": "expense_id", "message": "is only for splitting an expense up"}])
        old = await self._parts(user.id, split_id)
        currency = data.currency or old[0].currency
        await self._check(user, data, currency, old[0].currency)
        pairs = _pair(old, data.parts)
        spent_on = data.spent_on or old[0].spent_on
        now = dt.datetime.now(dt.UTC)
        shared = {"title": data.title, "currency": currency, "spent_on": spent_on}
        kept: set[uuid.UUID] = set()
        for part, expense in pairs:
            values = {**shared, "amount": part.amount, "category_id": part.category_id, "notes": part.notes}
            if expense is None:
                await self.expenses.create_for(user, {**values, "split_id": split_id}, source)
                continue
            kept.add(expense.id)
            if any(getattr(expense, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(expense, key, value)
                expense.updated_at = now
        gone = [expense.id for expense in old if expense.id not in kept]
        session = self.repository.session
        await session.flush()
        if gone:
            await session.execute(delete(Expense).where(Expense.user_id == user.id, Expense.id.in_(gone)))
        if data.tags is not None:  # left out: the parts keep theirs (new parts get the first part's)
            await set_expense_tags(session, user.id, await self._part_ids(user.id, split_id), data.tags)
        elif len(pairs) > len(kept):
            first_tags = (await tag_names(session, [old[0].id])).get(old[0].id, [])
            await set_expense_tags(session, user.id, await self._part_ids(user.id, split_id), first_tags)
        return await self.read_split(user.id, split_id)

    async def delete_split(self, user_id: uuid.UUID, split_id: uuid.UUID) -> TrashItem:
        """Move every part to the trash as ONE item (restored together, with their tags); none: missing or another
        user's (404)."""
        parts = await self._parts(user_id, split_id)
        label = f"{parts[0].title} (split in {len(parts)})"
        return await TrashService(session=self.repository.session).trash_expenses(user_id, [p.id for p in parts], label)

    async def badges(self, user_id: uuid.UUID, split_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, SplitBadge]:
        """For a list page: each listed part's place in its split and the split's total (one query for the page)."""
        wanted = set(split_ids)
        if not wanted:
            return {}
        statement = (
            select(Expense.id, Expense.split_id, Expense.amount, Expense.currency)
            .where(Expense.user_id == user_id, Expense.split_id.in_(wanted))
            .order_by(Expense.split_id, Expense.id)
        )
        groups: dict[uuid.UUID, list[tuple[uuid.UUID, Decimal, str]]] = {}
        for expense_id, split_id, amount, currency in await self.repository.session.execute(statement):
            groups.setdefault(split_id, []).append((expense_id, Decimal(amount), currency))
        badges: dict[uuid.UUID, SplitBadge] = {}
        for rows in groups.values():
            total = sum((amount for _, amount, _ in rows), Decimal("0.00"))
            for number, (expense_id, _, currency) in enumerate(rows, start=1):
                badges[expense_id] = SplitBadge(number=number, count=len(rows), total=total, currency=currency)
        return badges


def _pair(old: Sequence[Expense], new: Sequence[SplitPartUpdate]) -> list[tuple[SplitPartUpdate, Expense | None]]:
    """Which old part each new part replaces (``None``: a new row); see :meth:`SplitService.replace_split`."""
    by_id = {expense.id: expense for expense in old}
    taken: set[uuid.UUID] = set()
    chosen: list[Expense | None] = [None] * len(new)
    errors: list[dict[str, Any]] = []
    for index, part in enumerate(new):
        if part.id is None:
            continue
        if part.id not in by_id or part.id in taken:
            errors.append({"field": "parts", "message": f"part {index + 1}: id is not a part of this split"})
            continue
        chosen[index] = by_id[part.id]
        taken.add(part.id)
    if errors:
        raise FieldValidationError(errors)
    for index, part in enumerate(new):
        if part.id is not None:
            continue
        same = next(
            (
                e
                for e in old
                if e.id not in taken
                and (e.category_id, Decimal(e.amount), e.notes) == (part.category_id, part.amount, part.notes)
            ),
            None,
        )
        if same is not None:
            chosen[index] = same
            taken.add(same.id)
    rest = iter(e for e in old if e.id not in taken)
    for index, part in enumerate(new):
        if part.id is None and chosen[index] is None:
            chosen[index] = next(rest, None)
    return list(zip(new, chosen, strict=True))
