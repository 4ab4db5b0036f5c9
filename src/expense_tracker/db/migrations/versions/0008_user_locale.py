"""Each user's locale (CLDR id such as de_DE) for formatting and parsing amounts and dates in the UI.

NULL, which every existing user gets, means "follow the browser's Accept-Language" (en_US when it names none of the
supported locales), so nobody's pages change until their browser or their choice says so. Additive: down drops it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("locale")
