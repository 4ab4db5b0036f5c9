from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

TrashKind = Literal["expense", "category", "schedule", "edit"]


class TrashItemRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: TrashKind
    label: str
    """What was deleted (or, for ``edit``, what was changed), as the Trash page shows it."""
    deleted_at: dt.datetime
    expires_at: dt.datetime
    """When it is purged for good (30 days after the delete; 1 day after an edit)."""
    rows: int
    """How many rows it holds: the deleted rows and what cascaded with them (e.g. an imported row's key)."""


class RestoreResult(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    """The trash item, which no longer exists: restoring (or undoing) works once."""
    kind: TrashKind
    label: str
    restored: dict[str, int]
    """Rows put back per table (for an undone edit: the one row changed back)."""
    notes: list[str]
    """What could not be put back exactly as it was, in words (e.g. a category deleted meanwhile)."""
    location: str | None
    """The API URL of what was restored (an expense, a category)."""


class TrashEmptied(msgspec.Struct, kw_only=True):
    purged: int
