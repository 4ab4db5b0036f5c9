"""The recurring job: create every due occurrence of every active schedule, exactly once, then run maintenance hooks.

Safe to run any time and from several places at once (two CronJob runs overlapping, a manual run): each occurrence
is its own transaction that first INSERTs the ``recurring_occurrence`` row (primary key schedule + date, ``ON
CONFLICT DO NOTHING``) and only if that inserted a row creates the expense, through ``ExpenseService`` like any other.
A concurrent run that got there first either has committed (the INSERT does nothing) or holds the key (PostgreSQL
makes the INSERT wait for its commit, then do nothing), so the expense is created once whoever wins.
"""

from __future__ import annotations

import datetime as dt
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from expense_tracker.constants import RECURRING_CATCH_UP_MAX, RECURRING_JOB_NAME
from expense_tracker.db.models import JobRun, RecurringOccurrence, RecurringSchedule, User
from expense_tracker.domain.budgets.services import BudgetService
from expense_tracker.domain.expenses.services import ExpenseService
from expense_tracker.domain.recurring.schedule import today_for
from expense_tracker.domain.recurring.services import next_dates
from expense_tracker.domain.trash.services import purge_expired

log = structlog.get_logger("expense_tracker.recurring")

MaintenanceHook = Callable[[AsyncEngine, dt.datetime], Awaitable[object]]


async def refresh_budget_mirrors(engine: AsyncEngine, now: dt.datetime) -> int:
    """A budget set for a future month reaches ``category.monthly_budget`` (read by older versions) when it starts."""
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        return await BudgetService(session=session).refresh_categories(now)


async def purge_trash(engine: AsyncEngine, now: dt.datetime) -> int:
    """Trash items past their 30 days (and edit undos past their day) go for good."""
    async with engine.begin() as connection:
        return await purge_expired(connection, now)


MAINTENANCE_HOOKS: tuple[MaintenanceHook, ...] = (refresh_budget_mirrors, purge_trash)
"""Run after the occurrences by ``expense-tracker recurring run``, in order."""
ERROR_MAX = 2000


@dataclass
class RunResult:
    created: int = 0
    skipped: int = 0
    """Occurrences another run created first."""
    failed: list[str] = field(default_factory=list)
    """``schedule id: error type`` of the schedules whose occurrence could not be created (the others went on)."""


def _insert(dialect: str):  # type: ignore[no-untyped-def]  # the two dialects' insert() share no public type
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def _create_one(
    session: AsyncSession, user: User, schedule: RecurringSchedule, occurs_on: dt.date, now: dt.datetime
) -> bool:
    """In the session's open transaction: claim ``occurs_on`` and create its expense. False: already claimed."""
    insert = _insert((await session.connection()).dialect.name)
    claimed = await session.execute(
        insert(RecurringOccurrence)
        .values(schedule_id=schedule.id, occurs_on=occurs_on, expense_id=None, created_at=now)
        .on_conflict_do_nothing(index_elements=["schedule_id", "occurs_on"])
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an INSERT
        return False
    values = {
        "title": schedule.title,
        "amount": schedule.amount,
        "currency": schedule.currency,
        "category_id": schedule.category_id,
        "spent_on": occurs_on,
        "notes": schedule.notes,
        "tags": list(schedule.tag_names),  # created on the fly if the user has none of that name (any more)
    }
    expense = await ExpenseService(session=session).create_for(user, values, "recurring")
    await session.execute(
        update(RecurringOccurrence)
        .where(RecurringOccurrence.schedule_id == schedule.id, RecurringOccurrence.occurs_on == occurs_on)
        .values(expense_id=expense.id)
    )
    await session.execute(
        update(RecurringSchedule)
        .where(RecurringSchedule.id == schedule.id)
        .values(created_count=RecurringSchedule.created_count + 1)
    )
    return True


async def _advance(session: AsyncSession, schedule_id: uuid.UUID, occurs_on: dt.date) -> None:
    """Move the watermark forward to ``occurs_on`` (never back: a slower concurrent run may be behind)."""
    await session.execute(
        update(RecurringSchedule)
        .where(
            RecurringSchedule.id == schedule_id,
            or_(RecurringSchedule.done_through.is_(None), RecurringSchedule.done_through < occurs_on),
        )
        .values(done_through=occurs_on)
        .execution_options(synchronize_session=False)
    )


async def run_schedule(
    sessions: async_sessionmaker[AsyncSession], schedule_id: uuid.UUID, now: dt.datetime, result: RunResult
) -> None:
    """Create the due occurrences of one schedule, each in its own transaction, at most ``RECURRING_CATCH_UP_MAX``."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(RecurringSchedule, User)
                .join(User, User.id == RecurringSchedule.user_id)
                .where(RecurringSchedule.id == schedule_id)
            )
        ).one_or_none()
        if row is None:  # deleted since the list was read
            return
        schedule, user = row
        dates = next_dates(schedule, today_for(user.timezone, now), RECURRING_CATCH_UP_MAX)
        await session.commit()  # the read's transaction: each occurrence below is a transaction of its own
        for occurs_on in dates:
            try:
                async with session.begin():
                    if await _create_one(session, user, schedule, occurs_on, now):
                        result.created += 1
                    else:
                        result.skipped += 1
                    await _advance(session, schedule.id, occurs_on)
            except Exception as exc:
                # This schedule stops here (its later dates wait for the next run: none is skipped); others go on.
                log.error("recurring occurrence failed", schedule_id=str(schedule_id), occurs_on=str(occurs_on))
                result.failed.append(f"{schedule_id} on {occurs_on}: {type(exc).__name__}")
                return


async def run_due(engine: AsyncEngine, now: dt.datetime | None = None) -> RunResult:
    """Create every due occurrence of every active schedule of every active user."""
    now = now or dt.datetime.now(dt.UTC)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    result = RunResult()
    async with sessions() as session:
        ids = list(
            await session.scalars(
                select(RecurringSchedule.id)
                .join(User, User.id == RecurringSchedule.user_id)
                .where(RecurringSchedule.paused.is_(False), User.is_active.is_(True))
                .order_by(RecurringSchedule.id)
            )
        )
    for schedule_id in ids:
        await run_schedule(sessions, schedule_id, now, result)
    return result


async def record_job(
    engine: AsyncEngine,
    status: str,
    now: dt.datetime,
    *,
    name: str = RECURRING_JOB_NAME,
    error: str | None = None,
    created: int = 0,
) -> None:
    """Write the job's ``job_run`` row: ``running`` at the start, ``success`` or ``failed`` at the end."""
    values: dict[str, object]
    if status == "running":
        values = {"last_started_at": now, "last_status": status}
    else:
        values = {"last_finished_at": now, "last_status": status, "last_error": error, "last_created": created}
        if status == "success":
            values["last_success_at"] = now
    insert = _insert(engine.dialect.name)
    statement = insert(JobRun).values(name=name, **values).on_conflict_do_update(index_elements=["name"], set_=values)
    async with engine.begin() as connection:
        await connection.execute(statement)


async def run_job(engine: AsyncEngine, now: Callable[[], dt.datetime] | None = None) -> RunResult:
    """The whole ``recurring run``: record the start, create the occurrences, run the hooks, record the outcome.

    Raises ``RuntimeError`` (after recording ``failed``) when anything failed, so the command exits non-zero."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    await record_job(engine, "running", clock())
    result = RunResult()
    try:
        result = await run_due(engine, clock())
        for hook in MAINTENANCE_HOOKS:
            await hook(engine, clock())
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} schedule(s) failed: " + "; ".join(result.failed[:10]))
    except Exception as exc:
        message = "".join(traceback.format_exception_only(exc)).strip()[:ERROR_MAX]
        try:
            await record_job(engine, "failed", clock(), error=message, created=result.created)
        except Exception:  # the database is what failed: the exit status still tells
            log.exception("recording the failed run failed")
        raise
    await record_job(engine, "success", clock(), created=result.created)
    return result
