"""Split payments: ``expense.split_id`` groups the 2+ parts of one payment (issue 15, item 3).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06

Additive only: one nullable column, NULL on every existing row (each stays an ordinary expense), and one partial index
(user_id, split_id) WHERE split_id IS NOT NULL that reads a split's parts and serves the list's "part 1 of 2" badges.
Partial: the ordinary expenses, nearly all rows, are not in it and cost nothing on insert.

Plain ``ADD COLUMN``/``DROP COLUMN`` rather than a batch operation: on SQLite a batch would copy the table, which
drops the month-aggregate triggers of migration 0004 (SQLite 3.35+ drops an unindexed column in place).
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NOT_NULL = sa.text("split_id IS NOT NULL")


def upgrade() -> None:
    op.add_column("expense", sa.Column("split_id", GUID(length=16), nullable=True))
    op.create_index(
        "ix_expense_user_split_id",
        "expense",
        ["user_id", "split_id"],
        unique=False,
        postgresql_where=_NOT_NULL,
        sqlite_where=_NOT_NULL,
    )


def downgrade() -> None:
    op.drop_index("ix_expense_user_split_id", table_name="expense")
    op.drop_column("expense", "split_id")
