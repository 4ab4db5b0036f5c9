"""Recurring schedules, always scoped to their owner (a foreign id is a missing one).

The API and the pages both call :class:`RecurringService`; the runner (``runner.py``) creates the expenses.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from expense_tracker.db.models import Category, RecurringSchedule, TrashItem, User
from expense_tracker.domain.recurring.schedule import Rule, upcoming
from expense_tracker.domain.recurring.schemas import ScheduleRead, UpcomingOccurrence
from expense_tracker.domain.trash.services import SCHEDULE_TABLE, TrashService
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.money import check_decimals
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import today_in

RULE_FIELDS = frozenset({"unit", "interval", "day_of_month", "start_on", "end_on", "max_count"})


def rule_of(schedule: RecurringSchedule) -> Rule:
    """The schedule's dates, without ``max_count``: what counts is the expenses created (``created_count``), so an
    edited rule never re-counts dates of the old one."""
    return Rule(
        unit=schedule.unit,  # type: ignore[arg-type]  # the CHECK constraint keeps it one of the four
        interval=schedule.interval,
        start_on=schedule.start_on,
        day_of_month=schedule.day_of_month,
        end_on=schedule.end_on,
    )


def remaining(schedule: RecurringSchedule) -> int | None:
    """How many more expenses the schedule may create (None: no limit)."""
    if schedule.max_count is None:
        return None
    return max(schedule.max_count - schedule.created_count, 0)


def next_dates(schedule: RecurringSchedule, until: dt.date, limit: int | None = None) -> list[dt.date]:
    """The schedule's dates after ``done_through`` up to ``until``: those not created yet (paused: none)."""
    if schedule.paused:
        return []
    left = remaining(schedule)
    bound = left if limit is None else (limit if left is None else min(left, limit))
    return upcoming(rule_of(schedule), schedule.done_through, until, bound)


def next_on(schedule: RecurringSchedule) -> dt.date | None:
    found = next_dates(schedule, dt.date(9999, 12, 31), 1)
    return found[0] if found else None


def to_read(schedule: RecurringSchedule) -> ScheduleRead:
    return ScheduleRead(
        id=schedule.id,
        title=schedule.title,
        amount=schedule.amount,
        currency=schedule.currency,
        category_id=schedule.category_id,
        tags=list(schedule.tag_names or []),
        notes=schedule.notes,
        unit=schedule.unit,  # type: ignore[arg-type]  # CHECK constraint
        interval=schedule.interval,
        day_of_month=schedule.day_of_month,
        start_on=schedule.start_on,
        end_on=schedule.end_on,
        max_count=schedule.max_count,
        paused=schedule.paused,
        created_count=schedule.created_count,
        done_through=schedule.done_through,
        next_on=next_on(schedule),
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
    )


class RecurringService(OwnedRowService[RecurringSchedule]):
    class Repo(SQLAlchemyAsyncRepository[RecurringSchedule]):
        model_type = RecurringSchedule

    repository_type = Repo

    async def list_for(self, user_id: uuid.UUID) -> Sequence[RecurringSchedule]:
        result: Sequence[RecurringSchedule] = await self.repository.get_many(
            RecurringSchedule.user_id == user_id,
            order_by=[(RecurringSchedule.title, False), (RecurringSchedule.id, False)],
        )
        return result

    async def _check(self, user_id: uuid.UUID, values: dict[str, Any], current: RecurringSchedule | None) -> None:
        errors: list[dict[str, Any]] = []
        currency = values.get("currency") or (current.currency if current else None)
        stored = current.currency if current else None
        if "currency" in values and (problem := check_chosen_currency(values["currency"], stored)):
            errors.append({"field": "currency", "message": problem})
        elif "amount" in values or "currency" in values:
            amount = values.get("amount", current.amount if current else None)
            if amount is not None and currency is not None:
                try:
                    check_decimals(amount, currency)
                except ValueError as exc:
                    errors.append({"field": "amount", "message": str(exc)})
        category_id = values.get("category_id")
        if category_id is not None:
            statement = select(Category.id).where(Category.id == category_id, Category.user_id == user_id)
            if await self.repository.session.scalar(statement) is None:
                errors.append({"field": "category_id", "message": "is not one of your categories"})
        start = values.get("start_on", current.start_on if current else None)
        end = values.get("end_on", current.end_on if current else None)
        if start is not None and end is not None and end < start:
            errors.append({"field": "end_on", "message": "must not be before start_on"})
        if errors:
            raise FieldValidationError(errors)

    async def create_for(self, user: User, values: dict[str, Any]) -> RecurringSchedule:
        values = {**values, "currency": values.get("currency") or user.currency}
        await self._check(user.id, values, None)
        tags = values.pop("tags", [])
        schedule = RecurringSchedule(user_id=user.id, tag_names=list(tags), **values)
        created: RecurringSchedule = await self.create(schedule)
        return created

    async def update_for(self, user: User, schedule_id: uuid.UUID, values: dict[str, Any]) -> RecurringSchedule:
        """Apply an edit to future occurrences only: ``done_through`` stays, so no date on or before it is created
        again, and the expenses already created are not touched."""
        schedule = await self.get_owned(user.id, schedule_id)
        await self._check(user.id, values, schedule)
        if "tags" in values:
            values = {**values, "tag_names": list(values.pop("tags"))}
        if "paused" in values:
            paused = values.pop("paused")
            if paused != schedule.paused:
                self._set_paused(schedule, paused, user.timezone)
        return await self.apply(schedule, values)

    @staticmethod
    def _set_paused(schedule: RecurringSchedule, paused: bool, timezone: str) -> None:
        schedule.paused = paused
        if not paused:
            # Resuming does not catch up on the paused weeks: everything before today counts as done.
            yesterday = today_in(timezone) - dt.timedelta(days=1)
            if schedule.done_through is None or schedule.done_through < yesterday:
                schedule.done_through = yesterday

    async def set_paused(self, user: User, schedule_id: uuid.UUID, paused: bool) -> RecurringSchedule:
        schedule = await self.get_owned(user.id, schedule_id)
        if paused != schedule.paused:
            self._set_paused(schedule, paused, user.timezone)
            await self.repository.session.flush()
        return schedule

    async def delete_for(self, user_id: uuid.UUID, schedule_id: uuid.UUID) -> TrashItem:
        """Move the schedule to the trash with its occurrence rows (a restore must never create a done date again);
        the expenses it created stay (they are ordinary expenses)."""
        schedule = await self.get_owned(user_id, schedule_id)
        trash = TrashService(session=self.repository.session)
        return await trash.trash_rows(user_id, "schedule", schedule.title, SCHEDULE_TABLE, [schedule_id])

    async def upcoming_for(self, user: User, days: int, today: dt.date | None = None) -> list[UpcomingOccurrence]:
        """The next occurrences of every active schedule from today to ``days`` days ahead, by date then title.

        Dates before today that the runner has not created yet are left out: they are caught up, not upcoming."""
        today = today or today_in(user.timezone)
        until = today + dt.timedelta(days=days)
        found: list[UpcomingOccurrence] = []
        for schedule in await self.list_for(user.id):
            for date in next_dates(schedule, until):
                if date < today:
                    continue
                found.append(
                    UpcomingOccurrence(
                        schedule_id=schedule.id,
                        occurs_on=date,
                        title=schedule.title,
                        amount=schedule.amount,
                        currency=schedule.currency,
                        category_id=schedule.category_id,
                    )
                )
        found.sort(key=lambda o: (o.occurs_on, o.title.lower(), o.schedule_id))
        return found
