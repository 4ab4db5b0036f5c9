"""The amount sorts order within a currency: ``ix_expense_user_amount_id`` becomes (user_id, currency, amount, id).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Sorting by amount mixed currencies (5.00 EUR between 4.99 USD and 5.01 USD). The listing now orders ``amount`` by
(currency, amount, id) and ``-amount`` by the exact reverse, and a page after a cursor seeks
``(currency, amount, id) > (?, ?, ?)``: one range of this index in page order, like every other sort (0005). The
``currency`` filter of the listing is an equality on the second column, so a one-currency list sorted by amount is
one range too. The new index is created before the old one is dropped, so the sorts never go without one; same
number of indexes afterwards, so no extra cost per insert. Existing rows are not touched.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_expense_user_currency_amount_id", "expense", ["user_id", "currency", "amount", "id"], unique=False
    )
    op.drop_index("ix_expense_user_amount_id", table_name="expense")


def downgrade() -> None:
    op.create_index("ix_expense_user_amount_id", "expense", ["user_id", "amount", "id"], unique=False)
    op.drop_index("ix_expense_user_currency_amount_id", table_name="expense")
