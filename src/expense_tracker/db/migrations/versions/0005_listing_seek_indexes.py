"""Indexes for the expense listing's keyset (cursor) pages: every sort is an index range in its exact order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

A page after a cursor is ``WHERE user_id = ? AND (key, id) > (?, ?) ORDER BY key, id LIMIT n``. It reads n index
entries only when an index holds the rows in exactly that order:

- ``ix_expense_user_spent_on_id`` becomes (user_id, spent_on DESC, id DESC). With ``id`` ascending, neither scan
  direction matched ``spent_on DESC, id DESC`` (newest first) or ``spent_on, id``: PostgreSQL read and sorted a whole
  day of rows per page (an Incremental Sort over about 1,400 rows per page for a user with a million expenses).
  Date-range reports use only its first two columns and are unaffected.
- ``ix_expense_user_amount_id`` and ``ix_expense_user_created_at_id`` serve the amount sorts (both directions) and
  ``created_at``, which were a sequential scan of ``expense`` and a top-N sort.
- ``ix_expense_category_id`` (category_id) becomes ``ix_expense_category_spent_on_id`` (category_id, spent_on DESC,
  id DESC): a category belongs to one user, so a list filtered by category (and dates) is one range in page order
  instead of walking the user's rows until enough of that category turn up; it still leads with category_id for the
  foreign key's checks. Same number of indexes, so no extra cost per insert.

Measured on PostgreSQL 15 (300,000 rows for one user): a page sorted by amount 278 ms -> 0.14 ms, a newest-first
page after a cursor 1.9 ms -> 0.12 ms.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_expense_user_spent_on_id", table_name="expense")
    op.create_index(
        "ix_expense_user_spent_on_id",
        "expense",
        ["user_id", sa.literal_column("spent_on DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index("ix_expense_user_amount_id", "expense", ["user_id", "amount", "id"], unique=False)
    op.create_index("ix_expense_user_created_at_id", "expense", ["user_id", "created_at", "id"], unique=False)
    op.drop_index("ix_expense_category_id", table_name="expense")
    op.create_index(
        "ix_expense_category_spent_on_id",
        "expense",
        ["category_id", sa.literal_column("spent_on DESC"), sa.literal_column("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_expense_category_spent_on_id", table_name="expense")
    op.create_index("ix_expense_category_id", "expense", ["category_id"], unique=False)
    op.drop_index("ix_expense_user_created_at_id", table_name="expense")
    op.drop_index("ix_expense_user_amount_id", table_name="expense")
    op.drop_index("ix_expense_user_spent_on_id", table_name="expense")
    op.create_index(
        "ix_expense_user_spent_on_id", "expense", ["user_id", sa.literal_column("spent_on DESC"), "id"], unique=False
    )
