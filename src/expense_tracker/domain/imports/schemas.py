"""Bodies of the bank-import API (msgspec Structs, so every field is in the OpenAPI schema).

``Dialect`` and ``Mapping`` are the engine's own Structs (``statement.py``): the wizard sends back exactly what the
upload answered, corrected where the person changed something.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from expense_tracker.constants import IMPORT_PREVIEW_ROWS, IMPORT_PROFILE_NAME_MAX
from expense_tracker.domain.imports.statement import Dialect, Mapping
from expense_tracker.lib.problems import field_error

RowStatus = Literal["import", "duplicate", "skipped", "problem"]
ProfileName = Annotated[str, msgspec.Meta(min_length=1, max_length=IMPORT_PROFILE_NAME_MAX)]


def clean_profile_name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= IMPORT_PROFILE_NAME_MAX:
        raise field_error("name", f"must be 1 to {IMPORT_PROFILE_NAME_MAX} characters")
    if "\x00" in name:
        raise field_error("name", "must not contain NUL characters")
    return name


class RawLine(msgspec.Struct):
    line: int
    text: str


class RejectedLineRead(msgspec.Struct):
    line: int
    reason: str
    text: str


class UploadRead(msgspec.Struct):
    """What the upload step found: the file's detected format, the guessed columns, and the first raw lines."""

    upload_id: uuid.UUID
    filename: str
    size: int
    expires_at: dt.datetime
    dialect: Dialect
    mapping: Mapping
    header: list[str]
    """The columns of the header row read with ``dialect``."""
    first_lines: list[RawLine]
    """The file's first lines as text (decoded with ``dialect.encoding``), to check the format by eye."""
    profile_id: uuid.UUID | None = None
    """The saved profile whose format and columns were applied instead of the detected ones, if one was chosen."""
    mapping_errors: dict[str, str] = {}
    """Why ``mapping`` cannot be used yet (by mapping field); empty when it can."""


class ImportSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An upload and how to read it: the body of a preview and of a commit."""

    upload_id: uuid.UUID
    dialect: Dialect
    mapping: Mapping
    skip_possible_duplicates: bool = False
    """Also skip rows that match an expense entered by hand (same date, amount and currency). Off: they are flagged
    and imported."""


class PreviewRequest(ImportSettings, forbid_unknown_fields=True, kw_only=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = IMPORT_PREVIEW_ROWS
    """How many rows to return (the counts cover the whole file)."""


class CommitRequest(ImportSettings, forbid_unknown_fields=True, kw_only=True):
    save_profile_as: str | None = None
    """Save ``dialect`` and ``mapping`` under this name (replacing a profile of the same name) for the next upload."""
    profile_id: uuid.UUID | None = None
    """The saved profile this import used (its "last used" time is updated)."""

    def __post_init__(self) -> None:
        if self.save_profile_as is not None:
            self.save_profile_as = clean_profile_name(self.save_profile_as) if self.save_profile_as.strip() else None


class PreviewRow(msgspec.Struct):
    line: int
    """The row's line in the file (quoted multi-line cells: the line it starts on)."""
    status: RowStatus
    reason: str | None
    """Why a row is a duplicate or skipped (e.g. "already imported on 2026-12-03 from statement.csv, row 7")."""
    problems: list[str]
    possible_duplicate: str | None
    """Set when an expense entered by hand has the same date, amount and currency (imported unless skipped)."""
    spent_on: dt.date | None
    title: str
    amount: Decimal | None
    """Expense amount: > 0 money spent, < 0 money back."""
    currency: str | None
    category: str | None
    notes: str


class StatementCurrencyTotal(msgspec.Struct):
    currency: str
    amount: Decimal
    count: int


class PreviewCounts(msgspec.Struct):
    rows: int
    to_import: int
    duplicates: int
    skipped: int
    problems: int
    possible_duplicates: int


class PreviewResult(msgspec.Struct):
    upload_id: uuid.UUID
    filename: str
    counts: PreviewCounts
    totals: list[StatementCurrencyTotal]
    """Sums of the rows that would be imported, per currency."""
    rows: list[PreviewRow]
    """The first ``limit`` rows, in file order."""
    rejected_lines: list[RejectedLineRead]
    """Lines that do not fit the header's columns (footers, balances): never imported, listed so nothing is silent."""


class CommitResult(msgspec.Struct):
    imported: int
    duplicates: int
    skipped: int
    possible_duplicates: int
    categories_created: list[str]
    totals: list[StatementCurrencyTotal]
    profile_id: uuid.UUID | None = None
    """The profile saved (``save_profile_as``) or used."""


class ProfileRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    dialect: Dialect
    mapping: Mapping
    last_used_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProfileCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: ProfileName
    dialect: Dialect
    mapping: Mapping

    def __post_init__(self) -> None:
        self.name = clean_profile_name(self.name)


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: ProfileName | msgspec.UnsetType = msgspec.UNSET
    dialect: Dialect | msgspec.UnsetType = msgspec.UNSET
    mapping: Mapping | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.name, str):
            self.name = clean_profile_name(self.name)
