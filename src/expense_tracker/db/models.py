"""Database models. Money is ``Numeric(12, 2)``; ids are UUIDv7 (time-ordered, index friendly)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from advanced_alchemy.base import DefaultBase, IdentityBase, UUIDv7AuditBase, UUIDv7Base, metadata_registry
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from expense_tracker.db.folding import SEARCH_INDEX_EXPRESSION

MONEY = Numeric(12, 2)


class User(UUIDv7AuditBase):
    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    theme: Mapped[str] = mapped_column(String(10), default="system", server_default="system")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    """CLDR locale id (``de_DE``) for the UI's amounts and dates; NULL follows the browser's Accept-Language."""
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True, index=True)
    """Last signed-in request, to within ``LAST_SEEN_RESOLUTION``; feeds the active-users gauge."""
    convert_totals: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Show totals converted to ``currency`` with the user's exchange rates (otherwise one total per currency)."""


class OAuthIdentity(UUIDv7AuditBase):
    """A user's account at an identity provider; (provider, subject) is the stable key, not the email."""

    __tablename__ = "oauth_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    provider: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)


class RevokedToken(UUIDv7Base):
    """Session tokens ended by logout. Rows past ``expires_at`` are useless and are purged on logout."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class Category(UUIDv7AuditBase):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    # No separate user_id index: the (user_id, name) unique constraint's index serves those lookups.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str] = mapped_column(String(7))
    monthly_budget: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    budget_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    """The budget's currency (NULL when there is no budget); changing the default currency never changes it."""


RATE = Numeric(18, 8)


class ExchangeRate(UUIDv7AuditBase):
    """1 unit of ``currency`` is ``rate`` units of ``base`` from ``valid_from`` on (until the next row's valid_from).

    ``base`` is the user's default currency when the rate was entered; conversion reads only the rows whose base is
    the current default, so changing the default never reinterprets old rates.
    """

    __tablename__ = "exchange_rate"
    # Its index serves every read: one user's rates for one base, by currency and date.
    __table_args__ = (UniqueConstraint("user_id", "base", "currency", "valid_from"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    base: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(RATE)
    valid_from: Mapped[dt.date] = mapped_column(Date)


class Expense(UUIDv7AuditBase):
    __tablename__ = "expense"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    spent_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    split_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, default=None)
    """Shared by the 2+ parts of one split payment (migration 0012); NULL for an ordinary expense. No table of its own:
    each part is an ordinary expense in its own category, so every per-category total already counts it there."""


# The listing's sorts, each in its exact order (forwards or backwards) so a page after a cursor reads only its own rows
# (migration 0005). The spent_on index also serves every date-range report.
Index("ix_expense_user_spent_on_id", Expense.user_id, Expense.spent_on.desc(), Expense.id.desc())
# The amount sorts order within a currency (migration 0007); a ``currency`` filter is an equality on its second column.
Index("ix_expense_user_currency_amount_id", Expense.user_id, Expense.currency, Expense.amount, Expense.id)
Index("ix_expense_user_created_at_id", Expense.user_id, Expense.created_at, Expense.id)
# A category is one user's: the category-filtered list in page order; also serves the foreign key's checks.
Index("ix_expense_category_spent_on_id", Expense.category_id, Expense.spent_on.desc(), Expense.id.desc())
# A split's parts (migration 0012); partial: the ordinary expenses (nearly all rows) are not in it.
Index(
    "ix_expense_user_split_id",
    Expense.user_id,
    Expense.split_id,
    postgresql_where=Expense.split_id.is_not(None),
    sqlite_where=Expense.split_id.is_not(None),
)
# The search (migration 0015, PostgreSQL only): trigrams of the folded title and notes, per user (btree_gin). Declared
# for the schema comparison, the expression as PostgreSQL prints it back (what ``db.folding.folded`` compiles to).
Index(
    "ix_expense_search",
    Expense.user_id,
    text(SEARCH_INDEX_EXPRESSION),
    postgresql_using="gin",
    info={"dialects": ("postgresql",)},
).ddl_if(dialect="postgresql")


class ExpenseMonthTotal(IdentityBase):
    """Sum and count of a user's expenses per calendar month, category and currency, kept by database triggers.

    Written only by the triggers of migration 0004 (on every INSERT, UPDATE and DELETE of ``expense``, in the same
    transaction) and by ``expense-tracker aggregates rebuild``; never by application code, so no write path can forget
    it. Money is in integer cents: PostgreSQL and SQLite both add integers exactly (SQLite would add floats). A key
    (user, month, category, currency) may have several rows, "stripes", whose sums add up to its figures; rows of a
    key whose expenses are all gone are deleted.

    ``category_id`` has no foreign key: the rows are derived data, and ``expense.category_id`` (RESTRICT) already keeps
    a category from being deleted while expenses use it. Uniqueness of (user, month, currency, category) needs two
    unique indexes, because SQLite (and PostgreSQL before NULLS NOT DISTINCT) treat NULL categories as all different.
    """

    __tablename__ = "expense_month_total"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    """The first day of the month."""
    category_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    stripe: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """Which of a key's partial rows this is (see "Stripes" below): a key's figures are the sum of its rows."""
    total_cents: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


# Stripes: on PostgreSQL a writer adds to the row of stripe ``pg_backend_pid() % 8`` of a key (migration 0004). With
# one row per key, every create for the same user, day and category (the common case: today, no category) waited for
# the previous writer's row lock until its COMMIT, WAL flush included: 693 creates/s at 16 connections against 2,896
# without the triggers; with 8 stripes 2,196. Readers sum a key's stripes; a stripe's own count may be 0 or negative.


# Not partial, so every per-user read (reports, counts, the FK cascade) can use it; NULL categories are all distinct
# in it, so the partial index below is what makes the uncategorised row unique.
Index(
    "uq_expense_month_total_category",
    ExpenseMonthTotal.user_id,
    ExpenseMonthTotal.month,
    ExpenseMonthTotal.currency,
    ExpenseMonthTotal.category_id,
    ExpenseMonthTotal.stripe,
    unique=True,
)
Index(
    "uq_expense_month_total_uncategorised",
    ExpenseMonthTotal.user_id,
    ExpenseMonthTotal.month,
    ExpenseMonthTotal.currency,
    ExpenseMonthTotal.stripe,
    unique=True,
    postgresql_where=ExpenseMonthTotal.category_id.is_(None),
    sqlite_where=ExpenseMonthTotal.category_id.is_(None),
)


class IdempotencyKey(UUIDv7Base):
    """The first response to a request sent with an ``Idempotency-Key``; retries with the same key get it back.

    The row is inserted in the same transaction as what the request creates, so it exists exactly when that did.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of what identifies the request (method, path, canonical body or file)."""
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class ImportUpload(UUIDv7Base):
    """A bank statement uploaded to the import wizard, kept in the database between its steps.

    In the database, not on local disk or in memory: the wizard's next request may reach another replica. Rows live
    until ``expires_at`` (``IMPORT_UPLOAD_TTL``); expired ones are purged whenever a new upload is stored (migration
    0009).
    """

    __tablename__ = "import_upload"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The file's bytes, at most ``IMPORT_FILE_MAX_BYTES``."""
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class ImportProfile(UUIDv7AuditBase):
    """A saved import setup for one bank: the file format (dialect) and the column mapping, picked next time."""

    __tablename__ = "import_profile"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    dialect: Mapped[dict[str, Any]] = mapped_column(JSON)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class ImportedRow(UUIDv7Base):
    """The duplicate-detection key of one imported statement row, tied to the expense it became.

    ``key`` is unique per user (a constraint, not only a check before inserting), so a file or an overlapping
    statement imported twice, or a double-submitted import, can never store a row twice. Deleting the expense deletes
    its key (``ON DELETE CASCADE``): a row whose expense is gone is no longer "already imported", and importing the
    statement again brings it back. See ``domain/imports/duplicates.py`` for how the key is made.
    """

    __tablename__ = "imported_row"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the row's identity; see ``duplicates.row_keys``."""
    expense_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expense.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    line: Mapped[int] = mapped_column(Integer)
    """The row's line number in that file (what the preview cites as "row N")."""
    imported_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class RecurringSchedule(UUIDv7AuditBase):
    """A recurring expense (rent, a subscription): the expense to create and when (domain/recurring/schedule.py).

    ``done_through`` is the schedule's watermark: occurrences on or before it are never created (again). The runner
    advances it with each occurrence it handles, and an edit leaves it, so a changed rule applies to future dates only
    and never re-creates or moves a past expense; resuming a paused schedule moves it to yesterday (no catch-up of the
    paused weeks). ``tag_names`` are names, turned into real tags on each created expense.
    """

    __tablename__ = "recurring_schedule"
    __table_args__ = (
        CheckConstraint("unit IN ('day', 'week', 'month', 'year')", name="unit"),
        CheckConstraint('"interval" >= 1', name="interval"),
        CheckConstraint("day_of_month IS NULL OR (day_of_month BETWEEN 1 AND 31)", name="day_of_month"),
        CheckConstraint("max_count IS NULL OR max_count >= 1", name="max_count"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), nullable=True, index=True
    )
    tag_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    unit: Mapped[str] = mapped_column(String(10))
    interval: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    day_of_month: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    max_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    done_through: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """Occurrences on or before this date are done (created, skipped while paused, or before an edit)."""
    created_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Expenses created so far (``max_count`` bounds it); kept with each occurrence in the same transaction."""


class RecurringOccurrence(DefaultBase):
    """One date of a schedule that has been created. The primary key is what makes creation idempotent: two runners
    (or two pods) that both find the date due both INSERT this row, and only one of them succeeds."""

    __tablename__ = "recurring_occurrence"

    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recurring_schedule.id", ondelete="CASCADE"), primary_key=True
    )
    occurs_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    expense_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("expense.id", ondelete="SET NULL"), nullable=True, index=True
    )
    """The expense it became; NULL once that expense is deleted (the date stays done)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class JobRun(DefaultBase):
    """The last run of a scheduled job (``expense-tracker recurring run``): what the metrics endpoint reports."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_status: Mapped[str] = mapped_column(String(20))
    """``running``, ``success`` or ``failed``."""
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Budget(UUIDv7AuditBase):
    """A category's monthly budget from ``month`` (a first day) on, until the category's next row (migration 0014).

    History, not a single value: changing a budget adds a row from the chosen month, so past months keep theirs.
    ``amount`` NULL means "no budget from this month". ``rollover``: what is left (or overspent) at a month's end
    carries into the next month while both months have a budget with the flag, in the same currency.
    ``category.monthly_budget``/``budget_currency`` mirror the current month's row for older app versions.
    """

    __tablename__ = "budget"
    # Its index serves one category's history and "the row in force on a month" (the latest month <= it).
    __table_args__ = (UniqueConstraint("category_id", "month"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    """NULL with a NULL amount (no budget has no currency)."""
    rollover: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TrashItem(UUIDv7Base):
    """What a delete (or an edit) took away, kept so it can be put back: the rows as they were, as JSON.

    Deleting stays a real DELETE (aggregate triggers, reports and every query are unchanged); the rows of the deleted
    row and of every table that cascades from it are copied here first (``domain/trash/snapshots.py``). ``kind`` is
    ``expense``, ``category``, ``schedule`` or ``edit`` (an edit's previous values, for "Undo"; never on the Trash
    page). Items are purged once past ``expires_at`` (indexed: the purge is one index range).
    """

    __tablename__ = "trash_item"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class Tag(UUIDv7AuditBase):
    """A user's free label for expenses (issue 15). Names are unique per user case-insensitively: the service compares
    ``lower(name)`` before writing, and the (user_id, name) constraint stops an exact duplicate from a race."""

    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))


# Which expenses carry which tags. A plain table (no id, no timestamps): the pair is the row. Deleting an expense or a
# tag deletes its links; the tag_id index serves filters ("expenses with tag X"), merges and the cascade.
expense_tag = Table(
    "expense_tag",
    metadata_registry.get(None),
    Column("expense_id", GUID(length=16), ForeignKey("expense.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", GUID(length=16), ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)
