"""Exchange rates, budgets that carry their currency, and the "convert to my currency" setting.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Additive only. ``category.budget_currency`` is backfilled from the owner's default currency for every category with a
budget: that is the currency the budget was shown in until now, so nothing a user sees changes. Expenses are not
touched.
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rate",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_exchange_rate_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rate")),
        sa.UniqueConstraint("user_id", "base", "currency", "valid_from", name=op.f("uq_exchange_rate_user_id")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_currency", sa.String(length=3), nullable=True))
    op.execute(
        "UPDATE category SET budget_currency = "
        "(SELECT currency FROM user_account WHERE user_account.id = category.user_id) "
        "WHERE monthly_budget IS NOT NULL"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("convert_totals", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("convert_totals")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_column("budget_currency")
    op.drop_table("exchange_rate")
