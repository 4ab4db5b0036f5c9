"""Duplicate detection for bank-statement imports: which rows of a file were already imported.

A row's key is ``sha256(user, spent_on, amount, currency, normalised title, n)`` where ``n`` counts the earlier rows of
the SAME file with the same (date, amount, currency, normalised title). So:

- two genuine, identical coffees on one day in one statement get n = 0 and n = 1: both are imported;
- the same statement imported again, or the next statement overlapping it by a few days, gives those rows the same
  keys again: they are duplicates and are not imported a second time;
- a double-submitted import is the same as importing the file again: nothing twice.

The title is normalised (case-folded, runs of white space made one space) so that a bank re-exporting the same row with
different capitals or line breaks still matches. What it cannot see: a statement that cuts a day in the middle and
repeats only the *second* of two identical rows (it becomes n = 0, which matches the first) — rare, and then the row
shows as a duplicate in the preview, never silently.

Keys are stored in ``imported_row`` with a unique (user, key) constraint, so even two imports racing each other cannot
both store a row (the second fails as a whole and stores nothing). A key is deleted with its expense: after deleting
an imported expense, importing the statement again brings it back.

Separately, a row that matches an expense entered BY HAND (same date, amount and currency, no import key) is flagged
as a possible duplicate; it is still imported unless the person chooses to skip those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

SEPARATOR = "\x1f"  # the ASCII unit separator: never part of a date, amount, code or (cleaned) title


def normalise_title(title: str) -> str:
    return " ".join(title.casefold().split())


def row_key(user_id: uuid.UUID, spent_on: dt.date, amount: Decimal, currency: str, title: str, n: int) -> str:
    parts = (str(user_id), spent_on.isoformat(), f"{amount:.2f}", currency, normalise_title(title), str(n))
    return hashlib.sha256(SEPARATOR.join(parts).encode()).hexdigest()


def row_keys(user_id: uuid.UUID, rows: Sequence[tuple[dt.date, Decimal, str, str] | None]) -> list[str | None]:
    """The key of each row (``(spent_on, amount, currency, title)``, ``None`` for a row that cannot have one), in order.

    ``n`` is the row's occurrence among the earlier rows of ``rows`` with the same identity (see the module docstring).
    """
    seen: Counter[tuple[dt.date, Decimal, str, str]] = Counter()
    keys: list[str | None] = []
    for row in rows:
        if row is None:
            keys.append(None)
            continue
        spent_on, amount, currency, title = row
        identity = (spent_on, amount, currency, normalise_title(title))
        keys.append(row_key(user_id, spent_on, amount, currency, title, seen[identity]))
        seen[identity] += 1
    return keys
