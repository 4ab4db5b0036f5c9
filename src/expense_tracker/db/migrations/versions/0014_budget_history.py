"""Budgets over time: table ``budget`` (a category's monthly budget from a month on), backfilled from the categories.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-06

Additive: one new table; ``category.monthly_budget``/``budget_currency`` stay (older app versions read them, the app
keeps them equal to the current month's budget).

Backfill: each category with a ``monthly_budget`` gets one row from the first month of its earliest expense or of its
``created_at``, whichever is earlier, so every month it was used in keeps the budget the reports showed until now.
Rollover starts off. Down drops the table: the categories still hold the current budget.
"""

import datetime as dt

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from uuid_utils.compat import uuid7

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("category_id", GUID(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("rollover", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_budget_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_budget_category_id_category"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget")),
        sa.UniqueConstraint("category_id", "month", name=op.f("uq_budget_category_id")),
    )
    op.create_index(op.f("ix_budget_user_id"), "budget", ["user_id"], unique=False)
    _backfill()


def _backfill() -> None:
    category = sa.table(
        "category",
        sa.column("id", GUID(length=16)),
        sa.column("user_id", GUID(length=16)),
        sa.column("monthly_budget", MONEY),
        sa.column("budget_currency", sa.String(3)),
        sa.column("created_at", DateTimeUTC(timezone=True)),
    )
    user = sa.table("user_account", sa.column("id", GUID(length=16)), sa.column("currency", sa.String(3)))
    expense = sa.table("expense", sa.column("category_id", GUID(length=16)), sa.column("spent_on", sa.Date()))
    budget = sa.table(
        "budget",
        sa.column("id", GUID(length=16)),
        sa.column("user_id", GUID(length=16)),
        sa.column("category_id", GUID(length=16)),
        sa.column("month", sa.Date()),
        sa.column("amount", MONEY),
        sa.column("currency", sa.String(3)),
        sa.column("rollover", sa.Boolean()),
        sa.column("created_at", DateTimeUTC(timezone=True)),
        sa.column("updated_at", DateTimeUTC(timezone=True)),
    )
    earliest = (
        sa.select(sa.func.min(expense.c.spent_on)).where(expense.c.category_id == category.c.id).scalar_subquery()
    )
    statement = (
        sa.select(
            category.c.id,
            category.c.user_id,
            category.c.monthly_budget,
            # Budgets set before 0006 have no currency of their own: they were in the default currency.
            sa.func.coalesce(category.c.budget_currency, user.c.currency),
            category.c.created_at,
            earliest,
        )
        .join_from(category, user, user.c.id == category.c.user_id)
        .where(category.c.monthly_budget.is_not(None))
    )
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for cid, user_id, amount, currency, created_at, first_spent in connection.execute(statement):
        first = created_at.date()
        if first_spent is not None:
            # SQLite returns MIN() over a date column as text.
            spent = first_spent if isinstance(first_spent, dt.date) else dt.date.fromisoformat(str(first_spent))
            first = min(first, spent)
        rows.append(
            {
                "id": uuid7(),
                "user_id": user_id,
                "category_id": cid,
                "month": first.replace(day=1),
                "amount": amount,
                "currency": currency,
                "rollover": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        connection.execute(budget.insert(), rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_budget_user_id"), table_name="budget")
    op.drop_table("budget")
