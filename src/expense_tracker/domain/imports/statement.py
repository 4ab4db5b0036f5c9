"""Bank-statement CSV engine: detect a bank export's dialect, read its table, map its columns, parse its rows.

Pure functions over bytes: no database, no HTTP. The import wizard (upload, saved mappings, duplicates, pages) is
built on this interface, which stays stable::

    dialect = detect(data)                          # Dialect: every detected value (encoding, delimiter, header line,
                                                    # date format, decimal and thousands separators)
    dialect = dialect.with_overrides(form)          # the person's corrections, as strings from a form; raises
                                                    # StatementError(field, message) for a value it cannot use
    table = read_table(data, dialect)               # Table: header, rows, each row's line number, rejected lines
    mapping = guess_mapping(table.header, table.rows)  # Mapping: which column is what (by name, else by content),
                                                    # sign convention, skip money in
    currency = guess_currency(table, mapping)       # "GBP" for "£12.40" cells, "EUR" for "Betrag (EUR)"; else None
    errors = validate_mapping(mapping, table.header)  # {field: message}, empty when the mapping can be used
    rows = parse_rows(table, dialect, mapping, "EUR")  # list[StatementRow], one per table row, in file order

``Dialect`` and ``Mapping`` are frozen msgspec Structs with plain fields (strings, an int, booleans), so they
round-trip through JSON and forms (``msgspec.to_builtins`` / ``msgspec.convert``); ``Dialect.with_overrides`` and
``Mapping.with_overrides`` take the strings a form posts and check them. ``*_CHOICES`` dicts give the values a form
may offer, with labels. ``Dialect.header_line`` is 0 for a file without a header row (its first line is data); its
columns are then named "Column 1", "Column 2"... and ``guess_mapping`` finds them by their content.

Sign rule (shared design): a :class:`StatementRow`'s ``amount`` is an EXPENSE amount: positive is money spent, negative
is money back (a refund, or income when money-in rows are not skipped); zero is a problem. A single amount column is
read with the mapping's ``sign`` ("negative means money out", the default, or "positive means money out"); a
debit/credit pair ignores the cells' own signs: a debit cell is money out, a credit cell is money in.

Rows are never dropped silently: every table row comes back as a ``StatementRow`` with its ``problems`` (unreadable
date or amount, both debit and credit filled, empty title, more decimals than the currency has...) and its
``skipped_reason`` (money in, skipped by rule); lines that do not fit the header's column count (footers, summaries)
are in ``Table.rejected`` with their line numbers. Amounts are never rounded: more decimals than the currency allows is
a problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Mapping as MappingABC
from decimal import Decimal
from functools import cache, lru_cache
from typing import Literal

import msgspec

from expense_tracker.domain.categories.schemas import NAME_MAX
from expense_tracker.domain.expenses.schemas import NOTES_MAX, TITLE_MAX
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.money import CENT, MAX_AMOUNT, currency_codes, parse_currency

# --- Choices a form may offer (value -> label) ---

ENCODING_CHOICES: dict[str, str] = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (with BOM)",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "Latin-1 (ISO 8859-1)",
}
DELIMITER_CHOICES: dict[str, str] = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab", "|": "Pipe (|)"}
DELIMITER_ALIASES: dict[str, str] = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
"""Spellings a form may post for a delimiter (a tab character does not survive every form)."""
DECIMAL_CHOICES: dict[str, str] = {".": "Point (12.50)", ",": "Comma (12,50)"}
THOUSANDS_CHOICES: dict[str, str] = {
    "": "None",
    ",": "Comma (1,234)",
    ".": "Point (1.234)",
    " ": "Space (1 234)",
    "'": "Apostrophe (1'234)",
}
_EXAMPLE_DAY = dt.datetime(2026, 12, 31, 14, 5, 9)  # noqa: DTZ001 - only formatted, a naive example
_DATE_BASES = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%d %b %y",
)
_TIMED_BASES = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d")
_TIME_SUFFIXES = (" %H:%M:%S", " %H:%M", "T%H:%M:%S", "T%H:%M:%SZ")
DATE_FORMATS: tuple[str, ...] = _DATE_BASES + tuple(b + s for b in _TIMED_BASES for s in _TIME_SUFFIXES)
"""Every date format detection tries, in order of preference when several read every date cell the same way."""
DATE_FORMAT_CHOICES: dict[str, str] = {f: f"{_EXAMPLE_DAY.strftime(f)} ({f})" for f in DATE_FORMATS}
_MONTH_FIRST = frozenset(f for f in DATE_FORMATS if f.startswith(("%m", "%b")))
_DAY_FIRST = frozenset(f for f in DATE_FORMATS if f.startswith("%d"))

Sign = Literal["negative_out", "positive_out"]
SIGN_CHOICES: dict[str, str] = {
    "negative_out": "Negative amounts are money out (most banks)",
    "positive_out": "Positive amounts are money out",
}
TITLE_JOIN = " — "
"""Between the description columns a title is made of (payee — purpose)."""
SKIPPED_MONEY_IN = "money in (skipped by rule)"
_MIN_YEAR = 1900


class StatementError(ValueError):
    """A value the engine cannot use; ``field`` names the Dialect/Mapping field (or "file") the message is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- Dialect ---


class Dialect(msgspec.Struct, frozen=True, kw_only=True):
    """How a file is written. Every value is detected by :func:`detect` and can be overridden."""

    encoding: str = "utf-8"
    """A key of ENCODING_CHOICES."""
    delimiter: str = ","
    """A key of DELIMITER_CHOICES."""
    header_line: int = 1
    """1-based line of the file on which the header row starts (banks put account details above it); 0 when the file
    has no header row (HSBC-like): its columns are then named "Column 1", "Column 2"..."""
    date_format: str = "%Y-%m-%d"
    """A key of DATE_FORMAT_CHOICES (strptime format; a time part, when present, is part of it and ignored)."""
    decimal: str = "."
    """A key of DECIMAL_CHOICES."""
    thousands: str = ","
    """A key of THOUSANDS_CHOICES; spaces (also no-break spaces) between digits are always accepted."""
    date_ambiguous: bool = False
    """Detection only: more than one format reads every date cell, with different dates (all days <= 12); the
    person should confirm ``date_format``. Cleared by an override of ``date_format``."""
    date_formats: tuple[str, ...] = ()
    """Detection only: every format that reads every date cell (the choice to offer when ``date_ambiguous``)."""

    def with_overrides(self, values: MappingABC[str, str]) -> Dialect:
        """A copy with the given fields replaced by form strings (blank values are ignored); checked."""
        changes: dict[str, object] = {}
        for field, raw in values.items():
            if field not in _DIALECT_FIELDS:
                raise StatementError(field, "is not a dialect setting")
            value = raw if field in {"delimiter", "thousands"} else raw.strip()
            if value == "" and field != "thousands":
                continue
            changes[field] = _check_dialect_value(field, value)
        if "date_format" in changes:
            changes["date_ambiguous"] = False
        if "decimal" in changes and "thousands" not in changes and changes["decimal"] == self.thousands:
            # Switching 12.50 to 12,50 alone also switches the grouping the detection paired with it.
            changes["thousands"] = self.decimal if self.decimal in THOUSANDS_CHOICES else ""
        dialect = msgspec.structs.replace(self, **changes)
        if dialect.thousands == dialect.decimal:
            raise StatementError("thousands", "must differ from the decimal separator")
        return dialect


_DIALECT_FIELDS = frozenset({"encoding", "delimiter", "header_line", "date_format", "decimal", "thousands"})


def _check_dialect_value(field: str, value: str) -> object:
    if field == "header_line":
        if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= 1_000_000:
            raise StatementError(field, "must be a line number (or 0 when the file has no header row)")
        return int(value)
    if field == "delimiter":
        value = DELIMITER_ALIASES.get(value.strip().lower(), value) if value.strip() else value
    choices = {
        "encoding": ENCODING_CHOICES,
        "delimiter": DELIMITER_CHOICES,
        "date_format": DATE_FORMAT_CHOICES,
        "decimal": DECIMAL_CHOICES,
        "thousands": THOUSANDS_CHOICES,
    }[field]
    if value not in choices:
        raise StatementError(field, f"must be one of: {', '.join(choices.values())}")
    return value


# --- Decoding and records ---


_C1_BYTES = re.compile(b"[\x80-\x9f]")


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8; else Windows-1252 when bytes 0x80-0x9F occur
    (printable there, e.g. € = 0x80; control characters in Latin-1) and decode; else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if _C1_BYTES.search(data):
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "latin-1"


def decode(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        label = ENCODING_CHOICES.get(encoding, encoding)
        raise StatementError("encoding", f"the file cannot be read as {label}") from None
    return text.removeprefix("\ufeff")


class _Record(msgspec.Struct, frozen=True):
    line: int
    cells: list[str]


def _records(text: str, delimiter: str, limit: int | None = None) -> list[_Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records: list[_Record] = []
    start = 1
    try:
        for cells in reader:
            records.append(_Record(start, cells))
            start = reader.line_num + 1
            if limit is not None and len(records) >= limit:
                break
    except csv.Error as exc:
        raise StatementError("file", f"line {start}: {exc}") from None
    return records


def _blank(cells: Sequence[str]) -> bool:
    return all(not c.strip() for c in cells)


def _fits(cells: list[str], width: int) -> list[str] | None:
    """The row cut to ``width`` cells when it has that many (or more, all extra cells empty), else None."""
    if len(cells) == width:
        return cells
    if len(cells) > width and _blank(cells[width:]):
        return cells[:width]
    return None


# --- Table ---


class RejectedLine(msgspec.Struct, frozen=True):
    line: int
    cells: list[str]
    reason: str


class Table(msgspec.Struct, frozen=True):
    header: list[str]
    """Column names: trimmed, unique (a repeated name gets " (2)"), an empty one becomes "Column N"."""
    rows: list[list[str]]
    """Data rows after the header, each with exactly ``len(header)`` cells; blank lines are left out."""
    lines: list[int]
    """``lines[i]`` is the 1-based line of the file on which ``rows[i]`` starts."""
    rejected: list[RejectedLine]
    """Lines after the header whose cell count does not fit it (footers, balances, summaries)."""


def _header_names(cells: Iterable[str]) -> list[str]:
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i, cell in enumerate(cells, start=1):
        name = " ".join(cell.split()) or f"Column {i}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def read_table(data: bytes, dialect: Dialect) -> Table:
    return _table(_records(decode(data, dialect.encoding), dialect.delimiter), dialect)


def _table(records: Sequence[_Record], dialect: Dialect) -> Table:
    if dialect.header_line == 0:
        widths = Counter(len(r.cells) for r in records if not _blank(r.cells))
        width = max(widths.items(), key=lambda item: (item[1], item[0]))[0] if widths else 1
        header_cells, at = [""] * width, -1
    else:
        found = next((i for i, r in enumerate(records) if r.line == dialect.header_line), None)
        if found is None or _blank(records[found].cells):
            raise StatementError("header_line", f"no header row starts on line {dialect.header_line}")
        header_cells, at = records[found].cells, found
        while len(header_cells) > 1 and not header_cells[-1].strip():
            header_cells = header_cells[:-1]  # a trailing delimiter on the header line names no column
        width = len(header_cells)
    rows: list[list[str]] = []
    lines: list[int] = []
    rejected: list[RejectedLine] = []
    for record in records[at + 1 :]:
        if _blank(record.cells):
            continue
        cells = _fits(record.cells, width)
        if cells is None:
            reason = f"{len(record.cells)} cell(s) where the header has {width}"
            rejected.append(RejectedLine(record.line, record.cells, reason))
        else:
            rows.append(cells)
            lines.append(record.line)
    return Table(header=_header_names(header_cells), rows=rows, lines=lines, rejected=rejected)


# --- Numbers and dates ---

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_SYMBOLS = "€$£¥₹₩₽₺₪₫฿₴₦"
_CODE_AROUND = re.compile(r"^([A-Z]{3})\s*|\s*([A-Z]{3})$")
_MINUS = "-\u2212"
_DEBIT_CREDIT_MARK = re.compile(r"(?i)(?<=[0-9 ])\s*(DR|CR)\.?$")
_SPACE_GROUP = re.compile(r"[0-9][ \u00a0\u202f][0-9]{3}(?![0-9])")


def _number_body(text: str) -> tuple[bool, str] | None:
    """(negative, digits-and-separators) of an amount cell, without currency marks and signs; None if empty."""
    s = text.strip()
    if not s:
        return None
    negative = False
    side = _DEBIT_CREDIT_MARK.search(s)
    if side is not None:  # "12.50 DR" / "12.50 CR" (UK card statements): the mark is the sign
        negative, s = side.group(1).upper() == "DR", s[: side.start()]
    s = _CODE_AROUND.sub("", s).strip(" " + _SYMBOLS)
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip(" " + _SYMBOLS)
    if s and s[0] in _MINUS:
        negative, s = True, s[1:]
    elif s.startswith("+"):
        s = s[1:]
    elif s and s[-1] in _MINUS:  # "45,00-": some German banks put the sign last
        negative, s = True, s[:-1]
    s = _SPACES.sub("", s.strip(" " + _SYMBOLS))
    return negative, s


def parse_number(text: str, decimal: str, thousands: str) -> Decimal | None:
    """A bank's amount cell as a Decimal (None when empty); raises ValueError. Never rounds."""
    body = _number_body(text)
    if body is None:
        return None
    negative, s = body
    d, t = re.escape(decimal), re.escape(thousands)
    grouped = rf"[0-9]{{1,3}}(?:{t}[0-9]{{3}})+" if thousands.strip() else r"(?!)"
    match = re.fullmatch(rf"({grouped}|[0-9]+)(?:{d}([0-9]+))?", s)
    if match is None:
        example = "1.234,56" if decimal == "," else "1,234.56"
        raise ValueError(f"'{text.strip()}' is not an amount like {example}")
    whole = match.group(1).replace(thousands, "") if thousands.strip() else match.group(1)
    number = Decimal(f"{whole}.{match.group(2) or '0'}")
    return -number if negative else number


def parse_date(text: str, date_format: str) -> dt.date:
    try:
        parsed = dt.datetime.strptime(text.strip(), date_format)  # noqa: DTZ007 - a calendar day, no time zone
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a date like {_EXAMPLE_DAY.strftime(date_format)}") from None
    if parsed.year < _MIN_YEAR:
        raise ValueError(f"'{text.strip()}' has no plausible year")
    return parsed.date()


@lru_cache(maxsize=4096)
def _cached_date(text: str, date_format: str) -> tuple[dt.date | None, str | None]:
    """parse_date's answer, remembered: a statement repeats its dates on many rows, and strptime is slow."""
    try:
        return parse_date(text, date_format), None
    except ValueError as exc:
        return None, str(exc)


def _date_ok(text: str, date_format: str) -> dt.date | None:
    try:
        return parse_date(text, date_format)
    except ValueError:
        return None


def _formats_reading_all(cells: Sequence[str]) -> list[str]:
    """Formats (in DATE_FORMATS order) that read every non-empty cell."""
    survivors = list(DATE_FORMATS)
    for cell in dict.fromkeys(c.strip() for c in cells if c.strip()):
        survivors = [f for f in survivors if _date_ok(cell, f) is not None]
        if not survivors:
            break
    return survivors


def _looks_like_value(cell: str) -> bool:
    """A date or a number: what a header cell is not."""
    s = cell.strip()
    if not s:
        return False
    if any(_date_ok(s, f) is not None for f in DATE_FORMATS):
        return True
    body = _number_body(s)
    return body is not None and bool(re.fullmatch(r"[0-9][0-9.,']*", body[1]))


# --- Column mapping ---


class Mapping(msgspec.Struct, frozen=True, kw_only=True):
    """Which column (by header name) is what. Either ``amount`` or the ``debit``/``credit`` pair is set."""

    date: str | None = None
    title: tuple[str, ...] = ()
    """One or two columns (payee, purpose) joined with TITLE_JOIN."""
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    currency_column: str | None = None
    currency: str | None = None
    """A fixed currency for rows without a currency column value; else the user's default currency."""
    category: str | None = None
    notes: str | None = None
    sign: Sign = "negative_out"
    """How to read ``amount``: "negative_out" (negative means money out) or "positive_out"."""
    skip_money_in: bool = True
    """Money-in rows (salary, top-ups) are marked skipped instead of becoming refunds."""

    def with_overrides(self, values: MappingABC[str, str | Sequence[str]]) -> Mapping:
        """A copy with fields replaced by form values ("" = no column); ``title`` may be a list or one string;
        booleans accept "true/on/1/yes" and "false/off/0/no". Column names are checked by validate_mapping."""
        changes: dict[str, object] = {}
        for field, raw in values.items():
            if field not in _MAPPING_FIELDS:
                raise StatementError(field, "is not a mapping setting")
            if field == "title":
                parts = [raw] if isinstance(raw, str) else list(raw)
                changes[field] = tuple(p.strip() for p in parts if p.strip())
                continue
            value = (raw if isinstance(raw, str) else (raw[0] if raw else "")).strip()
            if field == "skip_money_in":
                if value.lower() not in _BOOLEANS:
                    raise StatementError(field, "must be true or false")
                changes[field] = _BOOLEANS[value.lower()]
            elif field == "sign":
                if value not in SIGN_CHOICES:
                    raise StatementError(field, f"must be one of: {', '.join(SIGN_CHOICES)}")
                changes[field] = value
            elif field == "currency":
                try:
                    changes[field] = parse_currency(value) if value else None
                except ValueError as exc:
                    raise StatementError(field, str(exc)) from None
            else:
                changes[field] = value or None
        return msgspec.structs.replace(self, **changes)


_MAPPING_FIELDS = frozenset(
    {"date", "title", "amount", "debit", "credit", "currency_column", "currency", "category", "notes", "sign"}
    | {"skip_money_in"}
)
_BOOLEANS = {"true": True, "on": True, "1": True, "yes": True, "false": False, "off": False, "0": False, "no": False}


def _norm(name: str) -> str:
    """Header name for matching: no accents, lower case, words of letters and digits."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    plain = plain.casefold().replace("ß", "ss")
    return " ".join(re.findall(r"[a-z0-9]+", plain))


# Header names banks use, best first (normalised: see _norm). EN, DE, FR, plus a few common others.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "transaction date",
        "posting date",
        "booking date",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "date operation",
        "date de l operation",
        "date d operation",
        "date de operation",
        "started date",
        "completed date",
        "date comptable",
        "trans date",
        "value date",
        "valuta",
        "valutadatum",
        "wertstellung",
        "date de valeur",
        "date valeur",
    ),
    "payee": (
        "payee",
        "beguenstigter zahlungspflichtiger",
        "auftraggeber begunstigter",
        "auftraggeber beguenstigter",
        "zahlungsempfanger",
        "empfanger",
        "beguenstigter",
        "begunstigter",
        "name",
        "merchant",
        "counterparty",
        "counterparty name",
        "beneficiaire",
        "tiers",
        "partner name",
    ),
    "description": (
        "description",
        "verwendungszweck",
        "purpose",
        "motif",
        "buchungstext",
        "libelle",
        "libelle operation",
        "libelle de l operation",
        "memo",
        "narrative",
        "transaction description",
        "details",
        "detail",
        "reference",
        "payment reference",
        "beschreibung",
        "text",
        "intitule",
    ),
    "amount": (
        "amount",
        "betrag",
        "montant",
        "umsatz",
        "transaction amount",
        "importe",
        "value",
    ),
    "debit": ("debit", "debit amount", "soll", "paid out", "money out", "withdrawals", "withdrawal", "ausgang"),
    "credit": ("credit", "credit amount", "haben", "paid in", "money in", "deposits", "deposit", "eingang"),
    "currency": ("currency", "wahrung", "waehrung", "devise", "ccy", "monnaie", "currency code"),
    "category": ("category", "kategorie", "categorie", "rubrique"),
    "notes": ("notes", "note", "notiz", "notizen", "bemerkung", "remarque", "commentaire", "comment"),
}


def _find(header: Sequence[str], kind: str, taken: set[str]) -> str | None:
    """The header column best matching ``kind``: an exact synonym first (best synonym first), then a name that starts
    with a synonym's words (e.g. "Amount (EUR)", "Betrag (EUR)")."""
    normalised = [(_norm(h), h) for h in header if h not in taken]
    for synonym in _SYNONYMS[kind]:
        for norm, name in normalised:
            if norm == synonym:
                return name
    for synonym in _SYNONYMS[kind]:
        for norm, name in normalised:
            if norm.startswith(synonym + " ") and not _mentions_both_sides(norm):
                return name
    return None


def _mentions_both_sides(norm: str) -> bool:
    """A "Debit/Credit" or "Soll/Haben" indicator column is neither a debit nor a credit amount."""
    words = set(norm.split())
    return bool(words & {"debit", "soll"}) and bool(words & {"credit", "haben"})


def guess_mapping(header: Sequence[str], rows: Sequence[Sequence[str]] = ()) -> Mapping:
    """Columns by their names (EN/DE/FR); with ``rows`` (Table.rows), the date, amount and description columns that
    no name gives away are then looked for in the cells (a file without a header row, unusual names)."""
    taken: set[str] = set()

    def pick(kind: str) -> str | None:
        found = _find(header, kind, taken)
        if found is not None:
            taken.add(found)
        return found

    date = pick("date")
    debit, credit = pick("debit"), pick("credit")
    if debit is None or credit is None:  # a pair or nothing: one side alone cannot tell money in from money out
        taken -= {c for c in (debit, credit) if c is not None}
        debit = credit = None
    amount = pick("amount") if debit is None else None
    payee, description = pick("payee"), pick("description")
    title = tuple(c for c in (payee, description) if c is not None)
    if rows:
        sample = [list(r) for r in rows[:_SAMPLE_ROWS]]
        if date is None:
            date = _content_column(header, sample, taken, _is_date_column)
        if amount is None and debit is None:
            amount = _content_column(header, sample, taken, _is_amount_column)
        if not title:
            text = _text_column(header, sample, taken)
            title = () if text is None else (text,)
    return Mapping(
        date=date,
        title=title,
        amount=amount,
        debit=debit,
        credit=credit,
        currency_column=pick("currency"),
        category=pick("category"),
        notes=pick("notes"),
    )


_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₺": "TRY", "₪": "ILS", "₴": "UAH"}
"""Symbols that name one currency ("$" and "kr" name several, so they name none)."""
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR"}


def guess_currency(table: Table, mapping: Mapping) -> str | None:
    """The one currency a file without a currency column is written in, when its amount columns say so: a code or
    "euros" in their header ("Betrag (EUR)", "Débit euros") or a symbol/code in their cells ("£12.40"); else None."""
    if mapping.currency_column is not None:
        return None
    columns = [c for c in (mapping.amount, mapping.debit, mapping.credit) if c is not None and c in table.header]
    found: Counter[str] = Counter()
    codes = currency_codes()
    for column in columns:
        for word in re.findall(r"[A-Za-z]+", column):
            code = _CURRENCY_WORDS.get(word.lower(), word if word.isupper() and word in codes else None)
            if code:
                found[code] += 1
        i = table.header.index(column)
        for row in table.rows:
            cell = row[i]
            found.update(code for symbol, code in _CURRENCY_SYMBOLS.items() if symbol in cell)
            for groups in _CODE_AROUND.findall(cell):  # ("EUR", "") for "EUR 12,50", ("", "EUR") for "12,50 EUR"
                found.update(g for g in groups if g in codes)
    return found.most_common(1)[0][0] if len(found) == 1 else None


_SAMPLE_ROWS = 200


def _column(sample: Sequence[Sequence[str]], i: int) -> list[str]:
    return [r[i].strip() for r in sample if i < len(r) and r[i].strip()]


def _is_date_column(cells: list[str]) -> int:
    return 1 if cells and _formats_reading_all(cells) else 0


def _is_number(cell: str) -> bool:
    body = _number_body(cell)
    return body is not None and bool(re.fullmatch(r"[0-9][0-9.,' ]*", body[1]))


def _is_amount_column(cells: list[str]) -> int:
    """2 for numbers some of which are negative (amounts; balances rarely are), 1 for numbers only, else 0."""
    if not cells or not all(_is_number(c) for c in cells) or all(c.isdigit() for c in cells):
        return 0  # digits only: a check or reference number, not money
    return 2 if any(c.lstrip(" " + _SYMBOLS).startswith(("-", "(", "\u2212")) or c.endswith("-") for c in cells) else 1


def _content_column(
    header: Sequence[str], sample: Sequence[Sequence[str]], taken: set[str], score: Callable[[list[str]], int]
) -> str | None:
    """The free column that scores best (the first of equals); None when none scores."""
    scored = [(score(_column(sample, i)), -i, name) for i, name in enumerate(header) if name not in taken]
    best = max(scored, default=(0, 0, ""))
    if best[0] == 0:
        return None
    taken.add(best[2])
    return best[2]


def _text_column(header: Sequence[str], sample: Sequence[Sequence[str]], taken: set[str]) -> str | None:
    """The free column of text (not dates or numbers) with the most different values: descriptions vary, a
    transaction type column repeats a few words."""

    def score(cells: list[str]) -> int:
        if not cells or sum(_looks_like_value(c) for c in cells) * 2 > len(cells):
            return 0
        return len(set(cells))

    return _content_column(header, sample, taken, score)


def _fixed_currency_problem(code: str) -> str | None:
    """A fixed currency is chosen, like an expense's: an ISO 4217 code in use today (a currency COLUMN may still hold
    a withdrawn one of old history, as the exact-format import allows)."""
    try:
        return check_chosen_currency(parse_currency(code))
    except ValueError as exc:
        return str(exc)


def validate_mapping(mapping: Mapping, header: Sequence[str]) -> dict[str, str]:
    """Problems that make the mapping unusable for this header, by Mapping field; empty when it can be used."""
    errors: dict[str, str] = {}
    columns = set(header)
    for field in ("date", "amount", "debit", "credit", "currency_column", "category", "notes"):
        value = getattr(mapping, field)
        if value is not None and value not in columns:
            errors[field] = f"there is no column '{value}'"
    if mapping.currency is not None and (problem := _fixed_currency_problem(mapping.currency)):
        errors["currency"] = problem
    if mapping.date is None:
        errors.setdefault("date", "choose the column with the date")
    if not mapping.title:
        errors["title"] = "choose the column with the description (or two: payee and purpose)"
    elif len(mapping.title) > 2:  # payee and purpose
        errors["title"] = "choose one or two columns"
    else:
        missing = [c for c in mapping.title if c not in columns]
        if missing:
            errors["title"] = f"there is no column '{missing[0]}'"
    pair = (mapping.debit, mapping.credit)
    if mapping.amount is not None and any(pair):
        errors["amount"] = "choose either an amount column or a debit/credit pair, not both"
    elif mapping.amount is None and not all(pair):
        if any(pair):
            errors["debit" if mapping.debit is None else "credit"] = "choose both the debit and the credit column"
        else:
            errors.setdefault("amount", "choose the amount column (or a debit/credit pair)")
    return errors


# --- Rows ---


class StatementRow(msgspec.Struct, kw_only=True):
    line: int
    """1-based line of the file on which the row starts."""
    spent_on: dt.date | None
    title: str
    amount: Decimal | None
    """Expense amount: > 0 money spent, < 0 money back (refund/income); None when unreadable."""
    currency: str | None
    category: str | None
    notes: str
    money_in: bool
    skipped_reason: str | None = None
    problems: list[str] = msgspec.field(default_factory=list)

    @property
    def importable(self) -> bool:
        return self.skipped_reason is None and not self.problems


def _single_line(text: str) -> str:
    return " ".join(text.split())


@cache
def _currency_step(currency: str) -> Decimal:
    """Smallest unit an amount may have: the currency's own (0 for JPY), at most cents (what the app stores)."""
    from babel.numbers import get_currency_precision

    return Decimal(1).scaleb(-min(2, get_currency_precision(currency)))


class _RowReader:
    def __init__(self, table: Table, dialect: Dialect, mapping: Mapping, default_currency: str) -> None:
        errors = validate_mapping(mapping, table.header)
        if errors:
            field, message = next(iter(errors.items()))
            raise StatementError(field, message)
        self.index = {name: i for i, name in enumerate(table.header)}
        self.dialect, self.mapping = dialect, mapping
        self.default_currency = mapping.currency or default_currency

    def cell(self, cells: list[str], column: str | None) -> str:
        return "" if column is None else cells[self.index[column]]

    def number(self, cells: list[str], column: str | None, label: str, problems: list[str]) -> Decimal | None:
        try:
            return parse_number(self.cell(cells, column), self.dialect.decimal, self.dialect.thousands)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            return None

    def amount(self, cells: list[str], problems: list[str]) -> Decimal | None:
        """The expense amount (sign rule applied), or None with a problem."""
        m = self.mapping
        if m.amount is not None:
            value = self.number(cells, m.amount, "amount", problems)
            if value is None:
                if not problems:
                    problems.append("amount: empty")
                return None
            return -value if m.sign == "negative_out" else value
        debit = self.number(cells, m.debit, "debit", problems)
        credit = self.number(cells, m.credit, "credit", problems)
        if problems:
            return None
        # Some banks write 0,00 in the unused column: a zero is as good as empty there.
        debit, credit = (v if v else None for v in (debit, credit))
        if debit is not None and credit is not None:
            problems.append("both debit and credit are filled")
            return None
        if debit is None and credit is None:
            problems.append("amount: neither debit nor credit is filled")
            return None
        return abs(debit) if debit is not None else -abs(credit)  # type: ignore[arg-type]

    def date(self, cells: list[str], problems: list[str]) -> dt.date | None:
        raw = self.cell(cells, self.mapping.date)
        if not raw.strip():
            problems.append("date: empty")
            return None
        day, error = _cached_date(raw, self.dialect.date_format)
        if error is not None:
            problems.append(f"date: {error}")
        return day

    def title(self, cells: list[str], problems: list[str]) -> str:
        parts = dict.fromkeys(p for p in (_single_line(self.cell(cells, c)) for c in self.mapping.title) if p)
        title = TITLE_JOIN.join(parts)
        if len(title) > TITLE_MAX:
            title = title[: TITLE_MAX - 1].rstrip() + "…"
        if not title:
            problems.append("title: empty")
        return title

    def currency(self, cells: list[str], problems: list[str]) -> str | None:
        raw = self.cell(cells, self.mapping.currency_column).strip()
        if not raw:
            return self.default_currency
        try:
            return parse_currency(raw)
        except ValueError:
            problems.append(f"currency: '{raw}' is not an ISO 4217 code such as USD or EUR")
            return None

    def checked_amount(self, cells: list[str], currency: str | None, problems: list[str]) -> Decimal | None:
        amount = self.amount(cells, problems)
        if amount is None:
            return None
        if amount == 0:
            problems.append("amount: 0 is neither money out nor money in")
        elif abs(amount) > MAX_AMOUNT:
            problems.append(f"amount: more than {MAX_AMOUNT}")
        elif currency is not None:
            exact = amount.quantize(_currency_step(currency))
            if exact != amount:
                problems.append(f"amount: {abs(amount)} has more decimals than {currency} has")
            else:
                return exact.quantize(CENT)
        return amount

    def row(self, line: int, cells: list[str]) -> StatementRow:
        m, problems = self.mapping, list[str]()
        spent_on = self.date(cells, problems)
        title = self.title(cells, problems)
        currency = self.currency(cells, problems)
        amount = self.checked_amount(cells, currency, problems)
        category = _single_line(self.cell(cells, m.category)) or None
        if category is not None and len(category) > NAME_MAX:
            problems.append(f"category: more than {NAME_MAX} characters")
        notes = self.cell(cells, m.notes).strip()
        if len(notes) > NOTES_MAX:
            problems.append(f"notes: more than {NOTES_MAX} characters")
        if any("\x00" in v for v in (title, notes, category or "")):
            problems.append("contains NUL characters")
        money_in = amount is not None and amount < 0
        return StatementRow(
            line=line,
            spent_on=spent_on,
            title=title,
            amount=amount,
            currency=currency,
            category=category,
            notes=notes,
            money_in=money_in,
            skipped_reason=SKIPPED_MONEY_IN if money_in and m.skip_money_in else None,
            problems=problems,
        )


def parse_rows(table: Table, dialect: Dialect, mapping: Mapping, default_currency: str) -> list[StatementRow]:
    """One StatementRow per table row; raises StatementError when the mapping does not fit the header."""
    reader = _RowReader(table, dialect, mapping, default_currency)
    return [reader.row(line, cells) for line, cells in zip(table.lines, table.rows, strict=True)]


# --- Detection ---

_SAMPLE_RECORDS = 2000
"""Detection looks at the first records only (a statement's format does not change half-way; a later row that does
not fit gets its problem from parse_rows)."""
_SAMPLE_CELLS = 20_000
"""The decimal separator detection reads this many distinct cells at most."""


def _width(records: Sequence[_Record]) -> tuple[int, int]:
    """(most common cell count of at least 2, how many records have it) -- (0, 0) when none."""
    counts = Counter(len(r.cells) for r in records if len(r.cells) >= 2 and not _blank(r.cells))
    if not counts:
        return 0, 0
    width, n = max(counts.items(), key=lambda item: (item[1], item[0]))
    return width, n


def _detect_delimiter(text: str) -> str:
    best, best_key = ",", (0, 0)
    for delimiter in DELIMITER_CHOICES:
        try:
            width, n = _width(_records(text, delimiter, _SAMPLE_RECORDS))
        except StatementError:
            continue
        if (n, width) > best_key:
            best, best_key = delimiter, (n, width)
    return best


def _header_fits(cells: list[str], following: list[str], width: int) -> bool:
    """The header has the data's width, or fewer cells when the data rows' extra cells are empty (Chase ends every
    data row, but not the header, with a delimiter)."""
    if _fits(cells, width) is not None:
        return _fits(following, width) is not None
    return 2 <= len(cells) < width and len(following) == width and _blank(following[len(cells) :])


def _detect_header(records: Sequence[_Record]) -> int | None:
    """Index of the header record: the first with the data's width that holds names (no dates, no numbers, mostly
    filled) and is followed by a record of that width. None when there is no such record and the first record of
    that width holds a date or a number (a file without a header); else that first record."""
    width, _ = _width(records)
    filled_records = [i for i, r in enumerate(records) if not _blank(r.cells)]
    for position, i in enumerate(filled_records[:-1]):
        cells = records[i].cells
        if not _header_fits(cells, records[filled_records[position + 1]].cells, width):
            continue
        filled = [c for c in cells[:width] if c.strip()]
        if 2 * len(filled) >= min(width, len(cells)) and not any(_looks_like_value(c) for c in filled):
            return i
    first = next((i for i in filled_records if _fits(records[i].cells, width) is not None), None)
    if first is None or any(_looks_like_value(c) for c in records[first].cells):
        return None
    return first


def _detect_decimal(cells: Iterable[str], delimiter: str) -> tuple[str, str]:
    votes: Counter[str] = Counter()
    thousands_seen: Counter[str] = Counter()
    for cell in cells:
        if _SPACE_GROUP.search(cell):
            thousands_seen[" "] += 1
        body = _number_body(cell)
        if body is None or not re.fullmatch(r"[0-9][0-9.,']*", body[1]):
            continue
        s = body[1]
        last = max(s.rfind("."), s.rfind(","))
        if "." in s and "," in s:
            votes[s[last]] += 1
            thousands_seen["," if s[last] == "." else "."] += 1
        elif re.search(r"[.,][0-9]{1,2}$", s):
            votes[s[last]] += 1
        if "'" in s:
            thousands_seen["'"] += 1
    # Without a majority, a semicolon-separated file is from a country that writes a decimal comma.
    if votes[","] != votes["."]:
        decimal = "," if votes[","] > votes["."] else "."
    else:
        decimal = "," if delimiter == ";" else "."
    partner = "." if decimal == "," else ","
    other = max(("'", " "), key=lambda t: thousands_seen[t])
    return decimal, other if thousands_seen[other] > thousands_seen[partner] else partner


def _date_column(table: Table) -> int | None:
    guessed = guess_mapping(table.header).date  # by name only: the content is what this looks at
    order = list(range(len(table.header)))
    if guessed is not None:
        order.remove(table.header.index(guessed))
        order.insert(0, table.header.index(guessed))
    for i in order:
        column = [r[i] for r in table.rows]
        if any(c.strip() for c in column) and _formats_reading_all(column):
            return i
    return None if guessed is None else table.header.index(guessed)


def _choose_date_format(column: Sequence[str], text: str, decimal: str) -> tuple[str, bool, tuple[str, ...]]:
    formats = _formats_reading_all(column)
    if not formats:
        sample = [c for c in column if c.strip()][:200]
        scores = {f: sum(_date_ok(c, f) is not None for c in sample) for f in DATE_FORMATS}
        best = max(DATE_FORMATS, key=lambda f: scores[f])
        return (best if scores[best] else "%Y-%m-%d"), False, ()
    values = [c for c in dict.fromkeys(c.strip() for c in column) if c]
    readings = {f: tuple(_date_ok(c, f) for c in values) for f in formats}
    ambiguous = len(set(readings.values())) > 1
    if ambiguous:
        # US exports (dollar amounts with a decimal point) write the month first; nearly everyone else the day.
        month_first = decimal == "." and ("$" in text or "USD" in text)
        preferred = _MONTH_FIRST if month_first else _DAY_FIRST
        formats.sort(key=lambda f: f not in preferred)
    return formats[0], ambiguous, tuple(formats)


def detect(data: bytes) -> Dialect:
    """Best guess of every Dialect value for this file (see the module docstring)."""
    encoding = detect_encoding(data)
    text = decode(data, encoding)
    delimiter = _detect_delimiter(text)
    records = _records(text, delimiter, _SAMPLE_RECORDS)
    if not records:
        return Dialect(encoding=encoding, delimiter=delimiter)
    header = _detect_header(records)
    header_line = 0 if header is None else records[header].line
    provisional = Dialect(encoding=encoding, delimiter=delimiter, header_line=header_line)
    table = _table(records, provisional)
    date_index = _date_column(table)
    # Dates ("01.12.26" in a value-date column) are not decimal numbers. Distinct cells only, and not all of them:
    # a 5 MB file repeats its formats thousands of times.
    dates = {i for i in range(len(table.header)) if _formats_reading_all([r[i] for r in table.rows[:_SAMPLE_ROWS]])}
    number_cells = itertools.islice(
        dict.fromkeys(c for r in table.rows for i, c in enumerate(r) if i != date_index and i not in dates),
        _SAMPLE_CELLS,
    )
    decimal, thousands = _detect_decimal(number_cells, delimiter)
    if date_index is None:
        return msgspec.structs.replace(provisional, decimal=decimal, thousands=thousands)
    date_format, ambiguous, formats = _choose_date_format([r[date_index] for r in table.rows], text, decimal)
    return msgspec.structs.replace(
        provisional,
        decimal=decimal,
        thousands=thousands,
        date_format=date_format,
        date_ambiguous=ambiguous,
        date_formats=formats,
    )
