"""Per user x month x category x currency sums and counts of expenses, kept by triggers; backfilled from the rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Triggers, not application code, keep ``expense_month_total`` exact: they see every write path (ORM, Core bulk
UPDATEs such as a category's reassignment, imports, a user's cascade, whatever comes later) in the writing
transaction. On PostgreSQL they are statement-level with transition tables (one trigger per event: PostgreSQL refuses
transition tables on multi-event triggers and on UPDATE OF column lists), so a 50,000-row import does one grouped
upsert. SQLite has only row-level triggers. Money is converted to integer cents, exact on both. On PostgreSQL each
connection writes its own "stripe" row of a key, so concurrent creates on one hot key (today, no category) do not
queue on a single row lock until COMMIT; readers add the stripes up.

This file is self-contained on purpose (a migration must not change when the app's code does); the same rebuild
query also lives in ``expense_tracker.db.aggregates`` for ``expense-tracker aggregates rebuild`` and the benchmark seed.
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = "user_id, month, category_id, currency, total_cents, count"
# The two unique indexes and the ON CONFLICT target that matches each. NULL categories never conflict in a plain
# unique index (on SQLite as on PostgreSQL < 15 without NULLS NOT DISTINCT), so uncategorised rows get a partial one;
# the other stays whole so that every read by user and month can use it.
PARTS = (
    ("category_id IS NOT NULL", "(user_id, month, currency, category_id, stripe)"),
    ("category_id IS NULL", "(user_id, month, currency, stripe) WHERE category_id IS NULL"),
)
# A key is spread over up to 8 rows ("stripes"), one per pg_backend_pid() % 8: concurrent writers on different
# connections then rarely wait for each other's row lock (held until COMMIT) on a hot key such as today's
# uncategorised expenses. Readers sum the stripes. SQLite has one writer at a time and always uses stripe 0.
PG_STRIPE = "pg_backend_pid() % 8"

# --- PostgreSQL -------------------------------------------------------------------------------------------------

PG_MONTH = "date_trunc('month', spent_on::timestamp)::date"


def _pg_rows(table: str, sign: str) -> str:
    return (
        f"SELECT user_id, {PG_MONTH} AS month, category_id, currency, "
        f"{sign}(amount * 100)::bigint AS cents, {sign}1 AS n FROM {table}"
    )


def _pg_upsert(source: str, only_existing_users: bool = False) -> str:
    """Add the grouped ``source`` deltas to this connection's stripe; rows are inserted in key order so concurrent
    writers lock in one order."""
    # In a user's cascade the user row is already gone: their aggregates are deleted by the foreign key, and an
    # inserted (negative) row would violate it.
    users = " AND EXISTS (SELECT 1 FROM user_account AS u WHERE u.id = d.user_id)" if only_existing_users else ""
    return "\n".join(
        f"""
    INSERT INTO expense_month_total AS t ({COLUMNS}, stripe)
    SELECT user_id, month, category_id, currency, sum(cents), sum(n), {PG_STRIPE} FROM ({source}) AS d
    WHERE {where}{users}
    GROUP BY user_id, month, currency, category_id
    HAVING sum(n) <> 0 OR sum(cents) <> 0
    ORDER BY user_id, month, currency, category_id
    ON CONFLICT {target}
    DO UPDATE SET total_cents = t.total_cents + excluded.total_cents, count = t.count + excluded.count;"""
        for where, target in PARTS
    )


def _pg_months(*tables: str) -> str:
    return " UNION ".join(f"SELECT user_id, {PG_MONTH} FROM {table}" for table in tables)


def _pg_drop_own_empty(*tables: str) -> str:
    """Delete this connection's stripe rows that are now empty (already locked by the upsert: no new lock waits)."""
    return f"""
    DELETE FROM expense_month_total
    WHERE stripe = {PG_STRIPE} AND count = 0 AND total_cents = 0 AND (user_id, month) IN ({_pg_months(*tables)});"""


def _pg_drop_empty(*tables: str) -> str:
    """Delete the empty rows of every month touched, and every key's rows whose stripes add up to nothing.

    Only rows this statement has locked are deleted, and only sets of them adding up to zero, so every key's total is
    unchanged whatever other transactions do meanwhile. Rows another transaction holds are skipped (SKIP LOCKED), not
    waited for: two writers cleaning up the same month would otherwise lock each other's stripes in opposite orders and
    deadlock. A skipped set stays behind, adds up to zero, and goes with a later update, delete or rebuild. Creates do
    not run this (it would make them wait for each other again): they drop only their own empty stripe rows.
    """
    return f"""
    WITH locked AS (
        SELECT id, user_id, month, currency, category_id, count, total_cents FROM expense_month_total
        WHERE (user_id, month) IN ({_pg_months(*tables)})
        FOR UPDATE SKIP LOCKED
    ), empty AS (
        SELECT user_id, month, currency, category_id FROM locked
        GROUP BY user_id, month, currency, category_id
        HAVING sum(count) = 0 AND sum(total_cents) = 0
    )
    DELETE FROM expense_month_total AS t
    USING locked AS l LEFT JOIN empty AS e ON l.user_id = e.user_id AND l.month = e.month
        AND l.currency = e.currency AND l.category_id IS NOT DISTINCT FROM e.category_id
    WHERE t.id = l.id AND (e.user_id IS NOT NULL OR (l.count = 0 AND l.total_cents = 0));"""


PG_ON_DELETE = _pg_upsert(_pg_rows("old_rows", "-"), only_existing_users=True) + _pg_drop_empty("old_rows")

PG_FUNCTIONS = {
    # A create can empty its own stripe row (one that a delete on this connection had made negative).
    "insert": _pg_upsert(_pg_rows("new_rows", "")) + _pg_drop_own_empty("new_rows"),
    # Old rows subtract, new rows add; an update that changes no money field nets to nothing (HAVING drops it).
    "update": _pg_upsert(f"{_pg_rows('old_rows', '-')} UNION ALL {_pg_rows('new_rows', '')}")
    + _pg_drop_empty("old_rows", "new_rows"),
    "delete": PG_ON_DELETE,
    # TRUNCATE fires no DELETE triggers; an emptied expense table leaves no aggregates (operators' tool, not the app's).
    "truncate": "\n    DELETE FROM expense_month_total;",
}
PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "truncate": "",
}

# --- SQLite -----------------------------------------------------------------------------------------------------


def _sqlite_month(row: str) -> str:
    return f"substr({row}.spent_on, 1, 7) || '-01'"


def _sqlite_cents(row: str) -> str:
    # SQLite keeps Numeric as a float: round the scaled value before the integer cast (12.34 * 100 = 1233.999...).
    return f"CAST(round({row}.amount * 100) AS INTEGER)"


def _sqlite_add(row: str) -> str:
    return "\n".join(
        f"""
    INSERT INTO expense_month_total ({COLUMNS})
    SELECT {row}.user_id, {_sqlite_month(row)}, {row}.category_id, {row}.currency, {_sqlite_cents(row)}, 1
    WHERE {row}.{where}
    ON CONFLICT {target}
    DO UPDATE SET total_cents = total_cents + excluded.total_cents, count = count + 1;"""
        for where, target in PARTS
    )


def _sqlite_subtract(row: str) -> str:
    key = (
        f"user_id = {row}.user_id AND month = {_sqlite_month(row)} AND currency = {row}.currency "
        f"AND category_id IS {row}.category_id"
    )
    return f"""
    UPDATE expense_month_total SET total_cents = total_cents - {_sqlite_cents(row)}, count = count - 1 WHERE {key};
    DELETE FROM expense_month_total WHERE {key} AND count = 0 AND total_cents = 0;"""


MONEY_FIELDS = ("user_id", "category_id", "amount", "currency", "spent_on")
SQLITE_TRIGGERS = {
    "expense_month_total_insert": f"AFTER INSERT ON expense BEGIN {_sqlite_add('NEW')}\nEND",
    "expense_month_total_update": (
        f"AFTER UPDATE OF {', '.join(MONEY_FIELDS)} ON expense "
        f"WHEN {' OR '.join(f'OLD.{f} IS NOT NEW.{f}' for f in MONEY_FIELDS)} "
        f"BEGIN {_sqlite_subtract('OLD')}{_sqlite_add('NEW')}\nEND"
    ),
    "expense_month_total_delete": f"AFTER DELETE ON expense BEGIN {_sqlite_subtract('OLD')}\nEND",
}

BACKFILL = {
    "postgresql": f"""
    INSERT INTO expense_month_total ({COLUMNS})
    SELECT user_id, {PG_MONTH}, category_id, currency, (sum(amount) * 100)::bigint, count(*)
    FROM expense GROUP BY user_id, {PG_MONTH}, currency, category_id""",
    "sqlite": f"""
    INSERT INTO expense_month_total ({COLUMNS})
    SELECT user_id, substr(spent_on, 1, 7) || '-01', category_id, currency,
           sum(CAST(round(amount * 100) AS INTEGER)), count(*)
    FROM expense GROUP BY user_id, substr(spent_on, 1, 7), currency, category_id""",
}


def upgrade() -> None:
    op.create_table(
        "expense_month_total",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False, start=1, increment=1),
            nullable=False,
        ),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("category_id", GUID(length=16), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_expense_month_total_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_month_total")),
    )
    op.create_index(
        "uq_expense_month_total_category",
        "expense_month_total",
        ["user_id", "month", "currency", "category_id", "stripe"],
        unique=True,
    )
    op.create_index(
        "uq_expense_month_total_uncategorised",
        "expense_month_total",
        ["user_id", "month", "currency", "stripe"],
        unique=True,
        postgresql_where=sa.text("category_id IS NULL"),
        sqlite_where=sa.text("category_id IS NULL"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for event, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION expense_month_total_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN{body}\n    RETURN NULL;\nEND\n$$"
            )
            op.execute(
                f"CREATE TRIGGER expense_month_total_{event} AFTER {event.upper()} ON expense "
                f"{PG_REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION expense_month_total_on_{event}()"
            )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    # Backfill after the triggers exist: the migration runs in one transaction, so no write falls in between.
    op.execute(BACKFILL[dialect])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for event in PG_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS expense_month_total_{event} ON expense")
            op.execute(f"DROP FUNCTION IF EXISTS expense_month_total_on_{event}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("uq_expense_month_total_uncategorised", table_name="expense_month_total")
    op.drop_index("uq_expense_month_total_category", table_name="expense_month_total")
    op.drop_table("expense_month_total")
