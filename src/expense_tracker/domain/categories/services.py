"""Categories belong to one user; every lookup is scoped by ``user_id`` so foreign ids behave as missing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select, update

from expense_tracker.db.models import Category, Expense
from expense_tracker.domain.budgets.services import in_force, load_histories, write_budget
from expense_tracker.domain.reports.deps import parse_month
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.money import check_decimals
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import ConflictError, FieldValidationError
from expense_tracker.lib.timezones import month_start

BUDGET_FIELDS = frozenset({"monthly_budget", "budget_currency", "budget_from", "rollover"})


def _budget_currency(values: dict[str, Any], default_currency: str, stored: str | None = None) -> str | None:
    """A budget carries a currency (the given one, else the default currency); no budget, no currency.

    A newly chosen one must be in use today, like an expense's (``XTS``, ``DEM`` refused); ``stored`` may stay."""
    if values.get("monthly_budget") is None:
        return None
    currency: str = values.get("budget_currency") or default_currency
    if currency != default_currency and (problem := check_chosen_currency(currency, stored)):
        raise FieldValidationError([{"field": "budget_currency", "message": problem}])
    try:  # only here is the budget's currency known (it may default): 1500.50 JPY is refused, never rounded
        check_decimals(values["monthly_budget"], currency)
    except ValueError as exc:
        raise FieldValidationError([{"field": "monthly_budget", "message": str(exc)}]) from None
    return currency


def _budget_month(raw: str | None, today: dt.date) -> dt.date:
    if not raw:
        return month_start(today)
    try:
        return parse_month(raw)
    except FieldValidationError as exc:
        raise FieldValidationError([{**e, "field": "budget_from"} for e in exc.errors]) from None


class CategoryService(OwnedRowService[Category]):
    class Repo(SQLAlchemyAsyncRepository[Category]):
        model_type = Category

    repository_type = Repo

    async def list_for(self, user_id: uuid.UUID) -> Sequence[Category]:
        result: Sequence[Category] = await self.repository.get_many(
            Category.user_id == user_id, order_by=[(Category.name, False)]
        )
        return result

    async def owns(self, user_id: uuid.UUID, category_id: uuid.UUID) -> bool:
        found: bool = await self.repository.exists(Category.id == category_id, Category.user_id == user_id)
        return found

    async def usage_counts(self, user_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """How many of the user's expenses use each of their categories (unused ones are absent)."""
        statement = (
            select(Expense.category_id, func.count())
            .where(Expense.user_id == user_id, Expense.category_id.is_not(None))
            .group_by(Expense.category_id)
        )
        rows = (await self.repository.session.execute(statement)).all()
        return {category_id: count for category_id, count in rows if category_id is not None}

    async def usage_count(self, user_id: uuid.UUID, category_id: uuid.UUID) -> int:
        """How many of the user's expenses use this category."""
        statement = select(func.count()).where(Expense.user_id == user_id, Expense.category_id == category_id)
        return int(await self.repository.session.scalar(statement) or 0)

    async def _ensure_unique(self, user_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None) -> None:
        statement = select(Category.id).where(Category.user_id == user_id, func.lower(Category.name) == name.lower())
        if exclude is not None:
            statement = statement.where(Category.id != exclude)
        if await self.repository.session.scalar(statement) is not None:
            raise ConflictError(detail=f"A category named {name!r} already exists.")

    async def create_for(
        self, user_id: uuid.UUID, values: dict[str, Any], default_currency: str, today: dt.date | None = None
    ) -> Category:
        """``today`` (in the user's time zone): a budget applies from its month unless ``budget_from`` says."""
        today = today or dt.datetime.now(dt.UTC).date()
        values = dict(values)
        month = _budget_month(values.pop("budget_from", None), today)
        rollover = bool(values.pop("rollover", False))
        await self._ensure_unique(user_id, values["name"])
        values = {**values, "budget_currency": _budget_currency(values, default_currency)}
        created: Category = await self.create(Category(user_id=user_id, **values))
        if values.get("monthly_budget") is not None:
            await write_budget(
                self.repository.session,
                created,
                month,
                values["monthly_budget"],
                values["budget_currency"],
                rollover,
                today,
            )
        return created

    async def update_for(
        self,
        user_id: uuid.UUID,
        category_id: uuid.UUID,
        values: dict[str, Any],
        default_currency: str,
        today: dt.date | None = None,
    ) -> Category:
        """A budget change applies from ``budget_from`` (default: ``today``'s month, in the user's time zone) until
        the budget's next change: earlier months keep theirs (see ``domain/budgets``)."""
        today = today or dt.datetime.now(dt.UTC).date()
        category = await self.get_owned(user_id, category_id)
        if "name" in values:
            await self._ensure_unique(user_id, values["name"], exclude=category_id)
        budget = {k: values[k] for k in BUDGET_FIELDS if k in values}
        values = {k: v for k, v in values.items() if k not in BUDGET_FIELDS}
        if budget.keys() - {"budget_from"}:
            # A budget change is a change of the category (maybe of a later month only, leaving its row alone):
            # updated_at says so, so an earlier edit's undo refuses to overwrite it.
            values["updated_at"] = dt.datetime.now(dt.UTC)
        category = await self.apply(category, values)
        if budget.keys() - {"budget_from"}:
            month = _budget_month(budget.get("budget_from"), today)
            history = (await load_histories(self.repository.session, user_id)).get(category_id, [])
            current = in_force(history, month)
            stored = (current.currency if current is not None else None) or category.budget_currency
            amount: Decimal | None = budget.get("monthly_budget", current.amount if current is not None else None)
            merged = {
                "monthly_budget": amount,
                # A new budget amount alone keeps the budget's currency (a default-currency change never moves it).
                "budget_currency": budget.get("budget_currency") or stored,
            }
            currency = _budget_currency(merged, default_currency, stored)
            rollover = budget.get("rollover")
            if rollover is None:
                rollover = current.rollover if current is not None else False
            await write_budget(self.repository.session, category, month, amount, currency, rollover, today)
        return category

    async def delete_for(self, user_id: uuid.UUID, category_id: uuid.UUID, reassign_to: uuid.UUID | None) -> None:
        """Delete a category; if expenses use it, they must be moved to ``reassign_to`` (else 409)."""
        category = await self.get_owned(user_id, category_id)
        session = self.repository.session
        in_use = await self.usage_count(user_id, category_id)
        if in_use and reassign_to is None:
            raise ConflictError(
                detail=f"{in_use} expense(s) use this category; pass ?reassign_to=<category id> to move them."
            )
        if reassign_to is not None:
            if reassign_to == category_id or not await self.owns(user_id, reassign_to):
                raise FieldValidationError([{"field": "reassign_to", "message": "must be another of your categories"}])
            await session.execute(
                update(Expense)
                .where(Expense.user_id == user_id, Expense.category_id == category_id)
                .values(category_id=reassign_to)
            )
        await self.repository.delete(category.id)

    async def ensure_named(self, user_id: uuid.UUID, names: Iterable[str]) -> tuple[dict[str, uuid.UUID], list[str]]:
        """Map names (case-insensitively) to this user's categories, creating the missing ones."""
        existing = {c.name.lower(): c.id for c in await self.list_for(user_id)}
        created: list[str] = []
        for name in names:
            if name.lower() not in existing:
                category = Category(user_id=user_id, name=name, color="#7f8c8d")
                self.repository.session.add(category)
                await self.repository.session.flush()
                existing[name.lower()] = category.id
                created.append(name)
        return existing, created
