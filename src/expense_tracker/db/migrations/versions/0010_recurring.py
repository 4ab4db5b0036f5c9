"""Recurring expenses: schedules, the occurrences they created, and the scheduled job's last run.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Additive only: three new tables, no change to existing rows.

- ``recurring_schedule``: what to create and when; the rule's bounds are CHECK constraints as well as API checks.
- ``recurring_occurrence``: one row per created date, primary key (schedule_id, occurs_on): the database, not the
  runner, guarantees a date is created once even when two runs overlap. Its expense is SET NULL when deleted.
- ``job_run``: one row per job name, read by the metrics endpoint (last success, last run failed).
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recurring_schedule",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("category_id", GUID(length=16), nullable=True),
        sa.Column("tag_names", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("interval", sa.Integer(), server_default="1", nullable=False),
        sa.Column("day_of_month", sa.SmallInteger(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("max_count", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("done_through", sa.Date(), nullable=True),
        sa.Column("created_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("unit IN ('day', 'week', 'month', 'year')", name=op.f("ck_recurring_schedule_unit")),
        sa.CheckConstraint('"interval" >= 1', name=op.f("ck_recurring_schedule_interval")),
        sa.CheckConstraint(
            "day_of_month IS NULL OR (day_of_month BETWEEN 1 AND 31)", name=op.f("ck_recurring_schedule_day_of_month")
        ),
        sa.CheckConstraint("max_count IS NULL OR max_count >= 1", name=op.f("ck_recurring_schedule_max_count")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_recurring_schedule_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_recurring_schedule_category_id_category"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_schedule")),
    )
    op.create_index(op.f("ix_recurring_schedule_user_id"), "recurring_schedule", ["user_id"], unique=False)
    op.create_index(op.f("ix_recurring_schedule_category_id"), "recurring_schedule", ["category_id"], unique=False)

    op.create_table(
        "recurring_occurrence",
        sa.Column("schedule_id", GUID(length=16), nullable=False),
        sa.Column("occurs_on", sa.Date(), nullable=False),
        sa.Column("expense_id", GUID(length=16), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["recurring_schedule.id"],
            name=op.f("fk_recurring_occurrence_schedule_id_recurring_schedule"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"], ["expense.id"], name=op.f("fk_recurring_occurrence_expense_id_expense"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("schedule_id", "occurs_on", name=op.f("pk_recurring_occurrence")),
    )
    op.create_index(op.f("ix_recurring_occurrence_expense_id"), "recurring_occurrence", ["expense_id"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("last_started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_success_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_created", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_index(op.f("ix_recurring_occurrence_expense_id"), table_name="recurring_occurrence")
    op.drop_table("recurring_occurrence")
    op.drop_index(op.f("ix_recurring_schedule_category_id"), table_name="recurring_schedule")
    op.drop_index(op.f("ix_recurring_schedule_user_id"), table_name="recurring_schedule")
    op.drop_table("recurring_schedule")
