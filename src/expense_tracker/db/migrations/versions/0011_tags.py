"""Tags: a user's free labels (``tag``) and which expenses carry them (``expense_tag``).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06

Additive only: two new tables, no change to existing rows (existing expenses simply have no tags).

- ``tag``: unique by (user, name); the service also refuses a name that differs only by case.
- ``expense_tag``: one row per (expense, tag), deleted with either side (``ON DELETE CASCADE``); the primary key's
  index serves "the tags of these expenses", the ``tag_id`` index "the expenses with this tag" (filters, merges).
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_tag_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_tag_user_id")),
    )
    op.create_table(
        "expense_tag",
        sa.Column("expense_id", GUID(length=16), nullable=False),
        sa.Column("tag_id", GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["expense_id"], ["expense.id"], name=op.f("fk_expense_tag_expense_id_expense"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fk_expense_tag_tag_id_tag"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("expense_id", "tag_id", name=op.f("pk_expense_tag")),
    )
    op.create_index(op.f("ix_expense_tag_tag_id"), "expense_tag", ["tag_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_expense_tag_tag_id"), table_name="expense_tag")
    op.drop_table("expense_tag")
    op.drop_table("tag")
