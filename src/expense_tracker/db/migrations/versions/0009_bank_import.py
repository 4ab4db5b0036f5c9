"""Bank-statement import wizard: uploads kept between its steps, saved per-bank settings, duplicate-detection keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Additive only: three new tables, no change to existing rows.

- ``import_upload``: the uploaded file's bytes, so every replica can serve the wizard's next step. ``expires_at`` is
  indexed: storing an upload first deletes the expired ones of every user (one index range).
- ``import_profile``: a user's saved file format and column mapping per bank, unique by (user, name).
- ``imported_row``: one key per imported row, unique by (user, key), cascading with the expense it became.
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_upload",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_import_upload_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_upload")),
    )
    op.create_index(op.f("ix_import_upload_user_id"), "import_upload", ["user_id"], unique=False)
    op.create_index(op.f("ix_import_upload_expires_at"), "import_upload", ["expires_at"], unique=False)

    op.create_table(
        "import_profile",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dialect", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("last_used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_import_profile_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profile")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_import_profile_user_id")),
    )

    op.create_table(
        "imported_row",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expense_id", GUID(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("imported_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_imported_row_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"], ["expense.id"], name=op.f("fk_imported_row_expense_id_expense"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_row")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_imported_row_user_id")),
    )
    op.create_index(op.f("ix_imported_row_expense_id"), "imported_row", ["expense_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_imported_row_expense_id"), table_name="imported_row")
    op.drop_table("imported_row")
    op.drop_table("import_profile")
    op.drop_index(op.f("ix_import_upload_expires_at"), table_name="import_upload")
    op.drop_index(op.f("ix_import_upload_user_id"), table_name="import_upload")
    op.drop_table("import_upload")
