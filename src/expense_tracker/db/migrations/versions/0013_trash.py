"""Trash and undo: what deletes and edits took away, kept for 30 days (edits: 1 day) so it can be put back.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06

Additive only: one new table, no change to existing rows.

- ``trash_item``: one deleted expense, category or schedule (or an edit's previous values) per row, its rows as JSON.
  ``user_id`` is indexed (the Trash page lists one user's items); ``expires_at`` too (the purge deletes one index
  range of every user's expired items).
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trash_item",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("deleted_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_trash_item_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trash_item")),
    )
    op.create_index(op.f("ix_trash_item_user_id"), "trash_item", ["user_id"], unique=False)
    op.create_index(op.f("ix_trash_item_expires_at"), "trash_item", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_trash_item_expires_at"), table_name="trash_item")
    op.drop_index(op.f("ix_trash_item_user_id"), table_name="trash_item")
    op.drop_table("trash_item")
