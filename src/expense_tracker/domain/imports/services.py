"""The bank-import wizard's services: uploads kept between steps, saved profiles, preview and commit.

The statement engine (``statement.py``) reads the file; this module adds what needs the database: the upload itself
(so any replica serves the next step), duplicate keys (``duplicates.py``), expenses entered by hand that a row may
repeat, and the all-or-nothing commit through the exact-format import's store (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, BinaryIO

import anyio.to_thread
import msgspec
from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import String, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from uuid_utils.compat import uuid7

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES, IMPORT_UPLOAD_TTL
from expense_tracker.db.models import Expense, ImportedRow, ImportProfile, ImportUpload, User
from expense_tracker.domain.expenses.csv_io import MAX_REPORTED_ERRORS, ImportRow
from expense_tracker.domain.expenses.services import IMPORT_BATCH, ExpenseService, ImportStore, ImportTooLargeError
from expense_tracker.domain.imports import duplicates
from expense_tracker.domain.imports.schemas import (
    CommitResult,
    ImportSettings,
    PreviewCounts,
    PreviewRow,
    RawLine,
    RejectedLineRead,
    StatementCurrencyTotal,
)
from expense_tracker.domain.imports.statement import (
    Dialect,
    Mapping,
    StatementError,
    StatementRow,
    Table,
    decode,
    detect,
    guess_currency,
    guess_mapping,
    parse_rows,
    read_table,
    validate_mapping,
)
from expense_tracker.lib import metrics
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.ownership import OwnedRowService
from expense_tracker.lib.problems import FieldValidationError

FIRST_LINES = 12
FIRST_LINE_CHARS = 300
KEY_CHUNK = 500
"""Keys looked up per query (well under SQLite's bound-parameter limit)."""
KEY_CHUNK_POSTGRES = 5000
"""Keys per query on PostgreSQL, where they travel as one array parameter."""
DIALECT_FIELDS = ("encoding", "delimiter", "header_line", "date_format", "decimal", "thousands")
MAPPING_FIELDS = ("date", "title", "amount", "debit", "credit", "currency_column", "currency", "category", "notes")
NOT_CSV = "is not a CSV text file"


class ImportRowsError(FieldValidationError):
    """Rows with problems: nothing was imported. A 422 whose ``errors`` name each row (its line in the file)."""

    status_code = 422


def statement_error(exc: StatementError) -> FieldValidationError:
    """The engine's error as a 400 naming the setting (``dialect.delimiter``, ``mapping.amount``) or ``file``."""
    name = exc.field
    if name in DIALECT_FIELDS:
        name = f"dialect.{name}"
    elif name in MAPPING_FIELDS or name in {"sign", "skip_money_in"}:
        name = f"mapping.{name}"
    return FieldValidationError([{"field": name, "message": exc.message}], detail=f"{name}: {exc.message}")


def checked_dialect(dialect: Dialect) -> Dialect:
    """``dialect`` with every value checked against the choices the engine supports (a 400 naming the bad one)."""
    try:
        checked = Dialect().with_overrides({f: str(getattr(dialect, f)) for f in DIALECT_FIELDS})
    except StatementError as exc:
        raise statement_error(exc) from None
    return msgspec.structs.replace(checked, date_ambiguous=dialect.date_ambiguous, date_formats=dialect.date_formats)


def checked_mapping(mapping: Mapping, header: Sequence[str]) -> Mapping:
    if mapping.currency is not None:
        try:
            mapping = msgspec.structs.replace(mapping, currency=parse_currency(mapping.currency))
        except ValueError as exc:
            raise FieldValidationError([{"field": "mapping.currency", "message": str(exc)}]) from None
    errors = validate_mapping(mapping, header)
    if errors:
        raise FieldValidationError(
            [{"field": f"mapping.{k}", "message": v} for k, v in errors.items()], detail="The columns do not fit."
        )
    return mapping


def first_lines(data: bytes, encoding: str) -> list[RawLine]:
    try:
        text = decode(data[: 64 * 1024], encoding)
    except StatementError:
        text = data[: 64 * 1024].decode("latin-1")
    lines = text.splitlines()[:FIRST_LINES]
    return [RawLine(line=i, text=line[:FIRST_LINE_CHARS]) for i, line in enumerate(lines, start=1)]


def _check_statement(data: bytes) -> tuple[Dialect, Table]:
    """Detect the file's format and read it once: a file that is no table of at least two columns is refused."""
    if not data.strip():
        raise StatementError("file", "is empty")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StatementError("file", NOT_CSV)
    dialect = detect(data)
    table = read_table(data, dialect)
    if len(table.header) < 2 or not table.rows:
        raise StatementError("file", f"{NOT_CSV} (no table with a header and rows was found)")
    return dialect, table


def _analyse(data: bytes, dialect: Dialect, mapping: Mapping, currency: str) -> tuple[Table, list[StatementRow]]:
    table = read_table(data, dialect)
    return table, parse_rows(table, dialect, checked_mapping(mapping, table.header), currency)


@dataclass
class UploadInfo:
    upload: ImportUpload
    dialect: Dialect
    mapping: Mapping
    header: list[str]
    first_lines: list[RawLine]
    profile_id: uuid.UUID | None
    mapping_errors: dict[str, str]


@dataclass
class Analysis:
    """Every row of a file with its status; ``rows``, ``statuses`` etc. are parallel lists in file order."""

    upload: ImportUpload
    table: Table
    rows: list[StatementRow]
    statuses: list[PreviewRow]
    keys: list[str | None]
    counts: PreviewCounts = field(init=False)
    totals: list[StatementCurrencyTotal] = field(init=False)

    def __post_init__(self) -> None:
        tally = Counter(s.status for s in self.statuses)
        self.counts = PreviewCounts(
            rows=len(self.statuses),
            to_import=tally["import"],
            duplicates=tally["duplicate"],
            skipped=tally["skipped"],
            problems=tally["problem"],
            possible_duplicates=sum(1 for s in self.statuses if s.possible_duplicate),
        )
        sums: dict[str, Decimal] = defaultdict(Decimal)
        count: Counter[str] = Counter()
        for s in self.statuses:
            if s.status == "import" and s.currency is not None and s.amount is not None:
                sums[s.currency] += s.amount
                count[s.currency] += 1
        self.totals = [StatementCurrencyTotal(currency=c, amount=sums[c], count=count[c]) for c in sorted(sums)]

    def rejected(self) -> list[RejectedLineRead]:
        return [
            RejectedLineRead(line=r.line, reason=r.reason, text=" | ".join(r.cells)[:FIRST_LINE_CHARS])
            for r in self.table.rejected
        ]


class ImportProfileService(OwnedRowService[ImportProfile]):
    class Repo(SQLAlchemyAsyncRepository[ImportProfile]):
        model_type = ImportProfile

    repository_type = Repo

    async def list_for(self, user_id: uuid.UUID) -> Sequence[ImportProfile]:
        """Most recently used first: the bank picked last time is the likeliest next time."""
        statement = (
            select(ImportProfile)
            .where(ImportProfile.user_id == user_id)
            .order_by(ImportProfile.last_used_at.desc().nulls_last(), ImportProfile.name)
        )
        return list((await self.repository.session.scalars(statement)).all())

    async def _name_taken(self, user_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None) -> bool:
        statement = select(ImportProfile.id).where(ImportProfile.user_id == user_id, ImportProfile.name == name)
        if exclude is not None:
            statement = statement.where(ImportProfile.id != exclude)
        return await self.repository.session.scalar(statement) is not None

    async def create_for(self, user_id: uuid.UUID, name: str, dialect: Dialect, mapping: Mapping) -> ImportProfile:
        from expense_tracker.lib.problems import ConflictError

        if await self._name_taken(user_id, name):
            raise ConflictError(detail=f"A saved import named {name!r} already exists.")
        profile = ImportProfile(
            user_id=user_id,
            name=name,
            dialect=msgspec.to_builtins(checked_dialect(dialect)),
            mapping=msgspec.to_builtins(mapping),
        )
        created: ImportProfile = await self.create(profile)
        return created

    async def save_as(self, user_id: uuid.UUID, name: str, dialect: Dialect, mapping: Mapping) -> ImportProfile:
        """Create or replace the profile named ``name`` (the wizard's "save these settings as")."""
        existing = await self.repository.get_one_or_none(ImportProfile.user_id == user_id, ImportProfile.name == name)
        values = {
            "dialect": msgspec.to_builtins(checked_dialect(dialect)),
            "mapping": msgspec.to_builtins(mapping),
            "last_used_at": dt.datetime.now(dt.UTC),
        }
        if existing is None:
            created: ImportProfile = await self.create(ImportProfile(user_id=user_id, name=name, **values))
            return created
        return await self.apply(existing, values)

    async def update_for(self, user_id: uuid.UUID, profile_id: uuid.UUID, values: dict[str, Any]) -> ImportProfile:
        from expense_tracker.lib.problems import ConflictError

        profile = await self.get_owned(user_id, profile_id)
        if "name" in values and await self._name_taken(user_id, values["name"], exclude=profile_id):
            raise ConflictError(detail=f"A saved import named {values['name']!r} already exists.")
        if "dialect" in values:
            values["dialect"] = msgspec.to_builtins(checked_dialect(values["dialect"]))
        if "mapping" in values:
            values["mapping"] = msgspec.to_builtins(values["mapping"])
        return await self.apply(profile, values)

    async def delete_for(self, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
        statement = delete(ImportProfile).where(ImportProfile.id == profile_id, ImportProfile.user_id == user_id)
        if (await self.repository.session.execute(statement)).rowcount != 1:
            raise NotFoundError(f"import profile {profile_id}")


def profile_settings(profile: ImportProfile) -> tuple[Dialect, Mapping]:
    return msgspec.convert(profile.dialect, Dialect), msgspec.convert(profile.mapping, Mapping)


class BankImportService(SQLAlchemyAsyncRepositoryService[ImportUpload]):
    """Uploads, previews and commits; profiles and expenses through sibling services on the same session."""

    class Repo(SQLAlchemyAsyncRepository[ImportUpload]):
        model_type = ImportUpload

    repository_type = Repo

    @cached_property
    def profiles(self) -> ImportProfileService:
        return ImportProfileService(session=self.repository.session)

    @cached_property
    def expenses(self) -> ExpenseService:
        return ExpenseService(session=self.repository.session)

    # --- Uploads ---

    async def store_upload(
        self, user: User, filename: str, file: BinaryIO, profile_id: uuid.UUID | None = None
    ) -> UploadInfo:
        """Keep an uploaded statement for the wizard's next steps; raises ``ImportTooLargeError`` or a 400."""
        if file.seek(0, os.SEEK_END) > IMPORT_FILE_MAX_BYTES:
            raise ImportTooLargeError
        file.seek(0)
        data = file.read()
        profile = await self.profiles.get_owned(user.id, profile_id) if profile_id is not None else None
        try:
            dialect, table = await anyio.to_thread.run_sync(_check_statement, data)
        except StatementError as exc:
            raise statement_error(exc) from None
        session = self.repository.session
        now = dt.datetime.now(dt.UTC)
        # Expired uploads of every user go here, where they are replaced: no background job, any replica may do it.
        await session.execute(delete(ImportUpload).where(ImportUpload.expires_at <= now))
        upload = ImportUpload(
            id=uuid7(),
            user_id=user.id,
            filename=(os.path.basename(filename.replace("\\", "/")) or "statement.csv")[:255],
            content=data,
            size=len(data),
            created_at=now,
            expires_at=now + IMPORT_UPLOAD_TTL,
        )
        session.add(upload)
        await session.flush()
        mapping = guess_mapping(table.header, table.rows)
        currency = guess_currency(table, mapping)
        if currency is not None:
            mapping = msgspec.structs.replace(mapping, currency=currency)
        if profile is not None:
            profile.last_used_at = now
            saved_dialect, saved_mapping = profile_settings(profile)
            try:
                table = await anyio.to_thread.run_sync(read_table, data, saved_dialect)
                dialect, mapping = saved_dialect, saved_mapping
            except StatementError:
                pass  # the bank changed its format: the detected one is the better start, the errors say why
        return UploadInfo(
            upload=upload,
            dialect=dialect,
            mapping=mapping,
            header=table.header,
            first_lines=first_lines(data, dialect.encoding),
            profile_id=profile.id if profile is not None else None,
            mapping_errors=validate_mapping(mapping, table.header),
        )

    async def get_upload(self, user_id: uuid.UUID, upload_id: uuid.UUID) -> ImportUpload:
        """The user's unexpired upload; another user's, an expired or an unknown one is the same 404."""
        statement = select(ImportUpload).where(
            ImportUpload.id == upload_id,
            ImportUpload.user_id == user_id,
            ImportUpload.expires_at > dt.datetime.now(dt.UTC),
        )
        upload: ImportUpload | None = await self.repository.session.scalar(statement)
        if upload is None:
            raise NotFoundError(f"import upload {upload_id}")
        return upload

    async def read_header(self, upload: ImportUpload, dialect: Dialect) -> Table:
        try:
            return await anyio.to_thread.run_sync(read_table, upload.content, checked_dialect(dialect))
        except StatementError as exc:
            raise statement_error(exc) from None

    # --- Preview and commit ---

    async def analyse(self, user: User, settings: ImportSettings) -> Analysis:
        """Every row of the upload read with ``settings``, with its status: import, duplicate, skipped or problem."""
        upload = await self.get_upload(user.id, settings.upload_id)
        dialect = checked_dialect(settings.dialect)
        try:
            table, rows = await anyio.to_thread.run_sync(
                _analyse, upload.content, dialect, settings.mapping, user.currency
            )
        except StatementError as exc:
            raise statement_error(exc) from None
        identities = [
            (r.spent_on, r.amount, r.currency, r.title)
            if r.spent_on is not None and r.amount is not None and r.currency is not None and not r.problems
            else None
            for r in rows
        ]
        keys = duplicates.row_keys(user.id, identities)
        imported = await self._imported(user, [k for k in keys if k is not None])
        by_hand = await self._entered_by_hand(user.id, rows)
        statuses = [
            self._status(row, key, imported, by_hand, settings.skip_possible_duplicates)
            for row, key in zip(rows, keys, strict=True)
        ]
        return Analysis(upload=upload, table=table, rows=rows, statuses=statuses, keys=keys)

    async def _imported(self, user: User, keys: Sequence[str]) -> dict[str, str]:
        """Which of ``keys`` were imported before, each with the reason the preview shows."""
        found: dict[str, str] = {}
        session = self.repository.session
        columns = (ImportedRow.key, ImportedRow.imported_at, ImportedRow.filename, ImportedRow.line)
        postgres = (await session.connection()).dialect.name == "postgresql"
        chunk = KEY_CHUNK_POSTGRES if postgres else KEY_CHUNK
        for start in range(0, len(keys), chunk):
            part = list(keys[start : start + chunk])
            if postgres:
                # One array parameter joined as a table: a hash or index join whatever the statistics. ``key IN ($1,
                # ..., $500)`` compared every row of the user with each parameter in turn when the planner had no
                # statistics yet (right after a large import): 1.7 s per query, 248 s to re-check a 71,000-row file.
                wanted = (
                    func.unnest(bindparam("keys", part, type_=ARRAY(String)))
                    .table_valued("key")
                    .render_derived(name="wanted")
                )
                statement = (
                    select(*columns).join(wanted, ImportedRow.key == wanted.c.key).where(ImportedRow.user_id == user.id)
                )
            else:
                statement = select(*columns).where(ImportedRow.user_id == user.id, ImportedRow.key.in_(part))
            for key, imported_at, filename, line in await session.execute(statement):
                day = imported_at.astimezone(_zone(user.timezone)).date().isoformat()
                found[key] = f"already imported on {day} from {filename}, row {line}"
        return found

    async def _entered_by_hand(self, user_id: uuid.UUID, rows: Sequence[StatementRow]) -> dict[tuple[Any, ...], str]:
        """Expenses without an import key on the file's days, by (date, amount, currency): their title and date."""
        days = [r.spent_on for r in rows if r.spent_on is not None]
        if not days:
            return {}
        statement = select(Expense.spent_on, Expense.amount, Expense.currency, Expense.title).where(
            Expense.user_id == user_id,
            Expense.spent_on >= min(days),
            Expense.spent_on <= max(days),
            ~exists().where(ImportedRow.expense_id == Expense.id),
        )
        found: dict[tuple[Any, ...], str] = {}
        for spent_on, amount, currency, title in await self.repository.session.execute(statement):
            found.setdefault((spent_on, Decimal(amount).quantize(Decimal("0.01")), currency), title)
        return found

    @staticmethod
    def _status(
        row: StatementRow,
        key: str | None,
        imported: dict[str, str],
        by_hand: dict[tuple[Any, ...], str],
        skip_possible: bool,
    ) -> PreviewRow:
        possible = None
        if row.amount is not None and row.spent_on is not None:
            title = by_hand.get((row.spent_on, row.amount, row.currency))
            if title is not None:
                possible = f"possible duplicate of “{title}” entered by hand on {row.spent_on.isoformat()}"
        reason: str | None = None
        if row.problems:
            status = "problem"
        elif row.skipped_reason is not None:
            status, reason = "skipped", row.skipped_reason
        elif key is not None and key in imported:
            status, reason = "duplicate", imported[key]
        elif possible is not None and skip_possible:
            status, reason = "skipped", f"{possible} (skipped by choice)"
        else:
            status = "import"
        return PreviewRow(
            line=row.line,
            status=status,  # type: ignore[arg-type] # one of RowStatus
            reason=reason,
            problems=list(row.problems),
            possible_duplicate=possible,
            spent_on=row.spent_on,
            title=row.title,
            amount=row.amount,
            currency=row.currency,
            category=row.category,
            notes=row.notes,
        )

    async def import_statement(
        self,
        user: User,
        settings: ImportSettings,
        save_profile_as: str | None = None,
        profile_id: uuid.UUID | None = None,
    ) -> CommitResult:
        """Import every row whose status is "import", all or nothing; rows with problems -> :class:`ImportRowsError`.

        Importing the same rows again (a double submit, the same file, an overlapping statement) finds their keys and
        imports nothing twice; two imports racing each other collide on the unique key and the later one fails whole
        (a 409), storing nothing.
        """
        analysis = await self.analyse(user, settings)
        bad = [s for s in analysis.statuses if s.status == "problem"]
        if bad:
            metrics.IMPORTS.labels(outcome="rejected").inc()
            errors = [{"row": s.line, "field": "row", "message": "; ".join(s.problems)} for s in bad]
            raise ImportRowsError(
                errors[:MAX_REPORTED_ERRORS], detail=f"{len(bad)} row(s) have problems; nothing was imported."
            )
        chosen = [
            (row, key)
            for row, key, status in zip(analysis.rows, analysis.keys, analysis.statuses, strict=True)
            if status.status == "import" and key is not None
        ]
        store = ImportStore(self.expenses, user)
        session = self.repository.session
        now = dt.datetime.now(dt.UTC)
        # A batch at a time, like the exact-format import: each store is one COPY (PostgreSQL) or executemany round
        # trip, and never holds the event loop long.
        for start in range(0, len(chosen), IMPORT_BATCH):
            batch = chosen[start : start + IMPORT_BATCH]
            expense_ids = await store.add([_import_row(row) for row, _ in batch])
            keys = [
                {
                    "id": uuid7(),
                    "user_id": user.id,
                    "key": key,
                    "expense_id": expense_id,
                    "filename": analysis.upload.filename,
                    "line": row.line,
                    "imported_at": now,
                }
                for (row, key), expense_id in zip(batch, expense_ids, strict=True)
            ]
            await session.execute(insert(ImportedRow), keys)
        saved = None
        if save_profile_as:
            # The bank keeps the currency its rows were read in: after a change of default currency the next
            # statement must not turn USD rows into EUR ones (nor miss the duplicates, whose keys hold the currency).
            mapping = settings.mapping
            if mapping.currency is None:
                mapping = msgspec.structs.replace(mapping, currency=user.currency)
            saved = await self.profiles.save_as(user.id, save_profile_as, settings.dialect, mapping)
        elif profile_id is not None:
            await session.execute(
                update(ImportProfile)
                .where(ImportProfile.id == profile_id, ImportProfile.user_id == user.id)
                .values(last_used_at=now)
            )
        metrics.IMPORTS.labels(outcome="success").inc()
        metrics.EXPENSES_CREATED.labels(source="import").inc(len(chosen))
        counts = analysis.counts
        return CommitResult(
            imported=len(chosen),
            duplicates=counts.duplicates,
            skipped=counts.skipped,
            possible_duplicates=counts.possible_duplicates,
            categories_created=store.created,
            totals=analysis.totals,
            profile_id=saved.id if saved is not None else profile_id,
        )


def _import_row(row: StatementRow) -> ImportRow:
    # Only importable rows get here: they have all three.
    assert row.spent_on is not None
    assert row.amount is not None
    assert row.currency is not None
    return ImportRow(
        title=row.title,
        amount=row.amount,
        currency=row.currency,
        spent_on=row.spent_on,
        category=row.category,
        notes=row.notes,
    )


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
