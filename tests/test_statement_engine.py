"""The bank-statement CSV engine (domain/imports/statement.py): detection, table, mapping, sign rule, row problems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from expense_tracker.domain.imports.statement import detect, guess_mapping, parse_rows, read_table

GERMAN_SMALL = (
    "Kontonummer:;DE12 3456;\n\nZeitraum:;01.10.2026 - 31.10.2026;\n"
    "Buchungstag;Valuta;Beguenstigter/Zahlungspflichtiger;Verwendungszweck;Betrag;Währung\n"
    '01.10.2026;01.10.2026;REWE Markt;"Einkauf\nFiliale 12";-1.234,56;EUR\n'
    "02.10.2026;02.10.2026;Arbeitgeber GmbH;Gehalt;2.500,00;EUR\n"
    "Kontostand;;;;1.000,00\n"
).encode("cp1252")


def test_small_german_statement_end_to_end() -> None:
    dialect = detect(GERMAN_SMALL)
    assert (dialect.encoding, dialect.delimiter, dialect.header_line) == ("latin-1", ";", 4)
    assert (dialect.date_format, dialect.decimal, dialect.thousands) == ("%d.%m.%Y", ",", ".")
    table = read_table(GERMAN_SMALL, dialect)
    assert table.lines == [5, 7]
    assert [r.line for r in table.rejected] == [8]
    rows = parse_rows(table, dialect, guess_mapping(table.header), "EUR")
    assert [(r.spent_on, r.title, r.amount, r.money_in) for r in rows] == [
        (dt.date(2026, 10, 1), "REWE Markt — Einkauf Filiale 12", Decimal("1234.56"), False),
        (dt.date(2026, 10, 2), "Arbeitgeber GmbH — Gehalt", Decimal("-2500.00"), True),
    ]
