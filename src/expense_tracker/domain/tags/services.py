"""Tags: a user's free labels, many per expense. Every lookup is scoped by ``user_id`` (a foreign tag is a missing one).

Names are unique per user ignoring case: "Food" and "food" are one tag, stored as first typed. The service checks
``lower(name)`` before writing; the ``(user_id, name)`` constraint stops two concurrent creations of the same spelling.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import BigInteger, ColumnElement, and_, cast, delete, exists, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from expense_tracker.db.models import Expense, Tag, expense_tag
from expense_tracker.domain.tags.schemas import ByTag, TagRead, TagSpending, UntaggedSpending, clean_tag_names
from expense_tracker.domain.trash.services import repoint_kept_rows
from expense_tracker.lib.money import quantize
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import ConflictError, FieldValidationError


def _lower(names: Iterable[str]) -> list[str]:
    return sorted({n.lower() for n in names})


async def ensure_tags(
    session: AsyncSession, user_id: uuid.UUID, names: Iterable[str]
) -> dict[str, tuple[uuid.UUID, str]]:
    """``{lower(name): (tag id, stored name)}`` for ``names`` (already cleaned), creating the user's missing tags.

    One SELECT, plus one INSERT when some are new (``ON CONFLICT DO NOTHING``: a concurrent request creating the same
    name makes this one reuse it) and a SELECT of what was inserted.
    """
    wanted = {n.lower(): n for n in names}
    if not wanted:
        return {}

    async def existing(lowers: Iterable[str]) -> dict[str, tuple[uuid.UUID, str]]:
        statement = select(Tag.id, Tag.name).where(Tag.user_id == user_id, func.lower(Tag.name).in_(list(lowers)))
        return {name.lower(): (tag_id, name) for tag_id, name in await session.execute(statement)}

    found = await existing(wanted)
    missing = [name for lower, name in wanted.items() if lower not in found]
    if missing:
        now = dt.datetime.now(dt.UTC)
        rows = [
            {"id": uuid7(), "user_id": user_id, "name": name, "created_at": now, "updated_at": now} for name in missing
        ]
        dialect = (await session.connection()).dialect.name
        upsert = pg_insert(Tag) if dialect == "postgresql" else sqlite_insert(Tag)
        await session.execute(upsert.on_conflict_do_nothing(), rows)
        found |= await existing(m.lower() for m in missing)
    return found


async def apply_expense_tags(
    session: AsyncSession,
    user_id: uuid.UUID,
    expense_ids: Sequence[uuid.UUID],
    names: Sequence[str],
    *,
    new: bool = False,
) -> list[str]:
    """Give each of ``expense_ids`` (the caller's, already checked to be ``user_id``'s) exactly the tags ``names``
    (cleaned), creating unknown ones; returns their stored spellings ("food" finds "Food"), sorted ignoring case.
    ``new``: the expenses were just inserted, so they have no tags to remove (one DELETE fewer)."""
    tags = await ensure_tags(session, user_id, names)
    if expense_ids:
        if not new:
            await session.execute(delete(expense_tag).where(expense_tag.c.expense_id.in_(list(expense_ids))))
        if tags:
            pairs = [{"expense_id": e, "tag_id": tag_id} for e in expense_ids for tag_id, _ in tags.values()]
            await session.execute(insert(expense_tag), pairs)
    return sorted((name for _, name in tags.values()), key=str.lower)


async def set_expense_tags(
    session: AsyncSession, user_id: uuid.UUID, expense_ids: Sequence[uuid.UUID], names: Sequence[str]
) -> None:
    """Replace the tags of ``expense_ids`` (``user_id``'s expenses) with ``names``, created on the fly.

    The one write path for an expense's tags: expenses, imports, recurring schedules and split parts all use it.
    Names are cleaned here too (a bad one is a 400 naming ``tags``), so callers may pass what the user typed.
    """
    try:
        cleaned = clean_tag_names(names)
    except ValueError as exc:
        raise FieldValidationError([{"field": "tags", "message": str(exc)}]) from None
    await apply_expense_tags(session, user_id, expense_ids, cleaned)


async def add_expense_tags(
    session: AsyncSession, user_id: uuid.UUID, tagged: Sequence[tuple[uuid.UUID, Sequence[str]]]
) -> None:
    """Tag new expenses in bulk (an import batch): ``(expense id, names)`` pairs; names created once for the batch."""
    tagged = [(e, names) for e, names in tagged if names]
    if not tagged:
        return
    ids = await ensure_tags(session, user_id, (n for _, names in tagged for n in names))
    pairs = {(e, ids[n.lower()][0]) for e, names in tagged for n in names}
    await session.execute(insert(expense_tag), [{"expense_id": e, "tag_id": t} for e, t in pairs])


async def tag_names(session: AsyncSession, expense_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The tag names of each of ``expense_ids`` in ONE query (a page of a listing), sorted ignoring case."""
    if not expense_ids:
        return {}
    statement = (
        select(expense_tag.c.expense_id, Tag.name)
        .join(Tag, Tag.id == expense_tag.c.tag_id)
        .where(expense_tag.c.expense_id.in_(list(expense_ids)))
        .order_by(func.lower(Tag.name))
    )
    names: dict[uuid.UUID, list[str]] = defaultdict(list)
    for expense_id, name in await session.execute(statement):
        names[expense_id].append(name)
    return dict(names)


_AGGREGATE_SEPARATOR = ";"  # tag names never contain it (schemas.clean_tag_name)


def aggregated_tag_names() -> ColumnElement[str | None]:
    """A correlated subquery giving an ``Expense`` row's tag names joined by ``;`` (``string_agg`` on PostgreSQL,
    ``group_concat`` on SQLite; order unspecified, see :func:`split_aggregated`), NULL without tags."""
    return (
        select(func.aggregate_strings(Tag.name, _AGGREGATE_SEPARATOR))
        .select_from(expense_tag)
        .join(Tag, Tag.id == expense_tag.c.tag_id)
        .where(expense_tag.c.expense_id == Expense.id)
        .scalar_subquery()
    )


def split_aggregated(value: str | None) -> list[str]:
    """:func:`aggregated_tag_names`'s value as names sorted ignoring case."""
    return sorted(value.split(_AGGREGATE_SEPARATOR), key=str.lower) if value else []


def tag_filter_clauses(user_id: uuid.UUID, names: Sequence[str], mode: str) -> list[ColumnElement[bool]]:
    """Listing filters by tag name (ignoring case): ``any`` = carries at least one of ``names``; ``all`` = every one.

    EXISTS over ``expense_tag`` joined to the user's tags, so an unknown name (or another user's tag) matches nothing.
    """
    if not names:
        return []

    def carries(lowers: list[str]) -> ColumnElement[bool]:
        return exists().where(
            expense_tag.c.expense_id == Expense.id,
            Tag.id == expense_tag.c.tag_id,
            Tag.user_id == user_id,
            func.lower(Tag.name).in_(lowers),
        )

    lowers = _lower(names)
    if mode == "all":
        return [carries([lower]) for lower in lowers]
    return [carries(lowers)]


def _cents_sum() -> ColumnElement[int]:
    # Each amount in whole cents in SQL: exact on SQLite too, where the column holds floats.
    return func.sum(cast(func.round(Expense.amount * 100), BigInteger))


def _money(cents: int) -> Decimal:
    return quantize(Decimal(int(cents)).scaleb(-2))


class TagService(OwnedRowService[Tag]):
    class Repo(SQLAlchemyAsyncRepository[Tag]):
        model_type = Tag

    repository_type = Repo

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session

    async def list_for(self, user_id: uuid.UUID) -> list[TagRead]:
        """The user's tags by name (ignoring case), each with how many expenses carry it: one query."""
        count = func.count(expense_tag.c.expense_id)
        statement = (
            select(Tag.id, Tag.name, count, Tag.created_at)
            .outerjoin(expense_tag, expense_tag.c.tag_id == Tag.id)
            .where(Tag.user_id == user_id)
            .group_by(Tag.id, Tag.name, Tag.created_at)
            .order_by(func.lower(Tag.name), Tag.id)
        )
        return [TagRead(*row) for row in await self.session.execute(statement)]

    async def names(self, user_id: uuid.UUID) -> list[str]:
        """The user's tag names (the expense form's suggestions)."""
        statement = select(Tag.name).where(Tag.user_id == user_id).order_by(func.lower(Tag.name))
        return list((await self.session.scalars(statement)).all())

    async def read(self, user_id: uuid.UUID, tag_id: uuid.UUID) -> TagRead:
        for tag in await self.list_for(user_id):
            if tag.id == tag_id:
                return tag
        raise NotFoundError(f"tag {tag_id}")

    async def _ensure_unique(self, user_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None) -> None:
        statement = select(Tag.name).where(Tag.user_id == user_id, func.lower(Tag.name) == name.lower())
        if exclude is not None:
            statement = statement.where(Tag.id != exclude)
        existing = await self.session.scalar(statement)
        if existing is not None:
            raise ConflictError(detail=f"A tag named {existing!r} already exists. Merge into it instead.")

    async def create_for(self, user_id: uuid.UUID, name: str) -> Tag:
        await self._ensure_unique(user_id, name)
        created: Tag = await self.create(Tag(user_id=user_id, name=name))
        return created

    async def rename(self, user_id: uuid.UUID, tag_id: uuid.UUID, name: str) -> Tag:
        """A new name (a change of case only is allowed); another tag's name, ignoring case, is a 409."""
        tag = await self.get_owned(user_id, tag_id)
        await self._ensure_unique(user_id, name, exclude=tag_id)
        return await self.apply(tag, {"name": name})

    async def merge(self, user_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID) -> Tag:
        """Merge ``source`` into ``target``: its expenses get ``target`` (never twice), then ``source`` is deleted."""
        source = await self.get_owned(user_id, source_id)
        if target_id == source_id:
            raise FieldValidationError([{"field": "into", "message": "must be another tag"}])
        if not await self.repository.exists(Tag.id == target_id, Tag.user_id == user_id):
            raise FieldValidationError([{"field": "into", "message": "is not one of your tags"}])
        target = await self.get_owned(user_id, target_id)
        already = select(expense_tag.c.expense_id).where(expense_tag.c.tag_id == target_id)
        moved = select(expense_tag.c.expense_id, literal(target_id, expense_tag.c.tag_id.type)).where(
            expense_tag.c.tag_id == source_id, expense_tag.c.expense_id.not_in(already)
        )
        await self.session.execute(insert(expense_tag).from_select(["expense_id", "tag_id"], moved))
        # Expenses in the trash (or an edit's undo) with ``source`` come back with ``target``, like the others.
        await repoint_kept_rows(self.session, user_id, expense_tag, "tag_id", source_id, target_id)
        await self.repository.delete(source.id)  # its links go with it (ON DELETE CASCADE)
        return target

    async def delete_for(self, user_id: uuid.UUID, tag_id: uuid.UUID) -> None:
        """Delete a tag; its expenses stay, without it."""
        result = await self.session.execute(delete(Tag).where(Tag.id == tag_id, Tag.user_id == user_id))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFoundError(f"tag {tag_id}")

    async def by_tag(self, user_id: uuid.UUID, start: dt.date, end: dt.date) -> ByTag:
        """Spending per tag and currency over ``start``..``end`` (an expense with two tags counts in both), and per
        currency what no tag covers. Two queries, whatever the number of tags."""
        period = and_(Expense.user_id == user_id, Expense.spent_on >= start, Expense.spent_on <= end)
        per_tag = (
            select(Tag.id, Tag.name, Expense.currency, _cents_sum(), func.count())
            .select_from(Expense)
            .join(expense_tag, expense_tag.c.expense_id == Expense.id)
            .join(Tag, Tag.id == expense_tag.c.tag_id)
            .where(period)
            .group_by(Tag.id, Tag.name, Expense.currency)
        )
        lines = [
            TagSpending(tag_id=tag_id, name=name, currency=currency, total=_money(cents), count=int(count))
            for tag_id, name, currency, cents, count in await self.session.execute(per_tag)
        ]
        lines.sort(key=lambda line: (line.currency, -line.total, line.name.lower()))
        tagged = exists().where(expense_tag.c.expense_id == Expense.id)
        untagged_statement = (
            select(Expense.currency, _cents_sum(), func.count())
            .where(period, ~tagged)
            .group_by(Expense.currency)
            .order_by(Expense.currency)
        )
        untagged = [
            UntaggedSpending(currency=currency, total=_money(cents), count=int(count))
            for currency, cents, count in await self.session.execute(untagged_statement)
        ]
        return ByTag(date_from=start, date_to=end, tags=lines, untagged=untagged)
