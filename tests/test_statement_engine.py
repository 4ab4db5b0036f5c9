"""The bank-statement CSV engine (domain/imports/statement.py): detection, table, mapping, sign rule, row problems.

Expected values are literal tables written from the fixture files (tests/data/bank-statements, invented data), never
computed by the engine's own helpers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expense_tracker.domain.imports.statement import (
    SKIPPED_MONEY_IN,
    Dialect,
    Mapping,
    StatementError,
    StatementRow,
    detect,
    detect_encoding,
    guess_currency,
    guess_mapping,
    parse_number,
    parse_rows,
    read_table,
    validate_mapping,
)

DATA = Path(__file__).resolve().parent / "data" / "bank-statements"
D = Decimal
Day = dt.date


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- Each fixture: detection, mapping, rows ------------------------------------------------------------------------

# file -> (encoding, delimiter, header_line, date_format, decimal, thousands, date_ambiguous)
EXPECTED_DIALECT = {
    "us-chase-checking.csv": ("utf-8", ",", 1, "%m/%d/%Y", ".", ",", False),
    "us-chase-checking-2.csv": ("utf-8", ",", 1, "%m/%d/%Y", ".", ",", False),
    "uk-nationwide-flexaccount.csv": ("cp1252", ",", 5, "%d %b %Y", ".", ",", False),
    "uk-hsbc-no-header.csv": ("utf-8", ",", 0, "%d/%m/%Y", ".", ",", False),
    "de-dkb-girokonto.csv": ("latin-1", ";", 7, "%d.%m.%Y", ",", ".", False),
    "de-dkb-girokonto-2.csv": ("latin-1", ";", 7, "%d.%m.%Y", ",", ".", False),
    "de-sparkasse-camt.csv": ("cp1252", ";", 1, "%d.%m.%y", ",", ".", False),
    "fr-credit-agricole-compte.csv": ("utf-8-sig", ";", 4, "%d/%m/%Y", ",", " ", False),
    "neobank-revolut-account.csv": ("utf-8", ",", 1, "%Y-%m-%d %H:%M:%S", ".", ",", False),
}

CHASE = {"date": "Posting Date", "title": ("Description",), "amount": "Amount"}
DKB = {"date": "Buchungstag", "title": ("Auftraggeber / Begünstigter", "Verwendungszweck"), "amount": "Betrag (EUR)"}
# file -> the guessed mapping's non-default fields
EXPECTED_MAPPING: dict[str, dict[str, Any]] = {
    "us-chase-checking.csv": CHASE,
    "us-chase-checking-2.csv": CHASE,
    "uk-nationwide-flexaccount.csv": {
        "date": "Date",
        "title": ("Description",),
        "debit": "Paid out",
        "credit": "Paid in",
    },
    "uk-hsbc-no-header.csv": {"date": "Column 1", "title": ("Column 2",), "amount": "Column 3"},
    "de-dkb-girokonto.csv": DKB,
    "de-dkb-girokonto-2.csv": DKB,
    "de-sparkasse-camt.csv": {
        "date": "Buchungstag",
        "title": ("Beguenstigter/Zahlungspflichtiger", "Verwendungszweck"),
        "amount": "Betrag",
        "currency_column": "Waehrung",
    },
    "fr-credit-agricole-compte.csv": {
        "date": "Date",
        "title": ("Libellé",),
        "debit": "Débit euros",
        "credit": "Crédit euros",
    },
    "neobank-revolut-account.csv": {
        "date": "Started Date",
        "title": ("Description",),
        "amount": "Amount",
        "currency_column": "Currency",
    },
}

# file -> (currency guessed from the amount columns, header)
EXPECTED_HEADER: dict[str, tuple[str | None, list[str]]] = {
    "us-chase-checking.csv": (
        None,
        ["Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #"],
    ),
    "uk-nationwide-flexaccount.csv": (
        "GBP",
        ["Date", "Transaction type", "Description", "Paid out", "Paid in", "Balance"],
    ),
    "de-dkb-girokonto.csv": (
        "EUR",
        [
            "Buchungstag",
            "Wertstellung",
            "Buchungstext",
            "Auftraggeber / Begünstigter",
            "Verwendungszweck",
            "Kontonummer",
            "BLZ",
            "Betrag (EUR)",
            "Gläubiger-ID",
            "Mandatsreferenz",
            "Kundenreferenz",
        ],
    ),
    "fr-credit-agricole-compte.csv": ("EUR", ["Date", "Libellé", "Débit euros", "Crédit euros"]),
    "uk-hsbc-no-header.csv": (None, ["Column 1", "Column 2", "Column 3"]),
    "neobank-revolut-account.csv": (
        None,
        [
            "Type",
            "Product",
            "Started Date",
            "Completed Date",
            "Description",
            "Amount",
            "Fee",
            "Currency",
            "State",
            "Balance",
        ],
    ),
}

# file -> default currency given, rows, money-in rows, {currency: sum of all amounts}, {currency: sum of importable},
#         rejected lines
EXPECTED_TOTALS: dict[str, tuple[str, int, int, dict[str, Decimal], dict[str, Decimal], list[int]]] = {
    "us-chase-checking.csv": ("USD", 22, 3, {"USD": D("-3277.07")}, {"USD": D("3010.35")}, []),
    "us-chase-checking-2.csv": ("USD", 10, 2, {"USD": D("-752.66")}, {"USD": D("2401.96")}, []),
    "uk-nationwide-flexaccount.csv": ("GBP", 18, 2, {"GBP": D("-664.76")}, {"GBP": D("2203.33")}, []),
    "uk-hsbc-no-header.csv": ("GBP", 12, 2, {"GBP": D("-1540.76")}, {"GBP": D("1389.68")}, []),
    "de-dkb-girokonto.csv": ("EUR", 16, 2, {"EUR": D("-1455.26")}, {"EUR": D("1997.56")}, []),
    "de-dkb-girokonto-2.csv": ("EUR", 7, 2, {"EUR": D("-3256.42")}, {"EUR": D("196.40")}, []),
    "de-sparkasse-camt.csv": ("USD", 10, 2, {"EUR": D("-1872.37")}, {"EUR": D("1560.49")}, []),
    "fr-credit-agricole-compte.csv": ("EUR", 17, 2, {"EUR": D("-1156.29")}, {"EUR": D("1587.83")}, [23]),
    "neobank-revolut-account.csv": (
        "EUR",
        19,
        5,
        {"GBP": D("-1295.85"), "EUR": D("-149.34"), "USD": D("-78.03")},
        {"GBP": D("1089.14"), "EUR": D("80.20"), "USD": D("48.68")},
        [],
    ),
}

# file -> first rows as (line, spent_on, title, amount, currency, money_in)
EXPECTED_FIRST_ROWS = {
    "us-chase-checking.csv": [
        (2, Day(2026, 11, 28), "ATM WITHDRAWAL 002341 11/28 4TH AVE SEATTLE WA", D("100.00"), "USD", False),
        (3, Day(2026, 11, 27), "STARBUCKS STORE 10234, SEATTLE WA", D("5.95"), "USD", False),
        (4, Day(2026, 11, 27), "ACME CORP PAYROLL PPD ID: 9876543210", D("-3125.62"), "USD", True),
    ],
    "uk-nationwide-flexaccount.csv": [
        (6, Day(2026, 11, 1), "COUNCIL TAX LBH", D("142.00"), "GBP", False),
        (7, Day(2026, 11, 2), "TESCO STORES 3021", D("12.40"), "GBP", False),
        (8, Day(2026, 11, 3), "SAINSBURY\u2019S S/MKTS", D("46.85"), "GBP", False),
        (9, Day(2026, 11, 3), "Rent Flat 2 \u2013 Mr J Smith", D("1150.00"), "GBP", False),
    ],
    "uk-hsbc-no-header.csv": [
        (1, Day(2026, 11, 28), "TESCO STORES 2291 LONDON", D("23.18"), "GBP", False),
        (2, Day(2026, 11, 27), "TFL TRAVEL CH TFL.GOV.UK/CP", D("8.10"), "GBP", False),
        (3, Day(2026, 11, 26), "ACME UK LTD SALARY", D("-2910.45"), "GBP", True),
    ],
    "de-dkb-girokonto.csv": [
        (8, Day(2026, 11, 30), "REWE Markt GmbH — REWE SAGT DANKE. 54321//München/DE", D("54.23"), "EUR", False),
        (9, Day(2026, 11, 28), "Zalando SE — Erstattung Retoure 10301234567", D("-39.95"), "EUR", True),
        (10, Day(2026, 11, 27), "Muster Software GmbH — LOHN / GEHALT 11/26", D("-3412.87"), "EUR", True),
        (
            11,
            Day(2026, 11, 25),
            "Stadtwerke München GmbH — Abschlag Strom Vertragskonto 400123456 November 2026",
            D("87.00"),
            "EUR",
            False,
        ),
        (14, Day(2026, 11, 24), "dm-drogerie markt — dm fil. 2211 München", D("23.45"), "EUR", False),
    ],
    "de-sparkasse-camt.csv": [
        (
            2,
            Day(2026, 12, 1),
            "Stadtwerke München GmbH — Strom Abschlag Dezember 2026 Vertrag 998877",
            D("87.00"),
            "EUR",
            False,
        ),
        (
            3,
            Day(2026, 12, 2),
            "REWE Markt GmbH — 2026-12-01T18:22 Debitk.1 2028-12 REWE SAGT DANKE",
            D("48.71"),
            "EUR",
            False,
        ),
        (4, Day(2026, 12, 3), "Otto GmbH & Co KG — Rückerstattung Bestellung 4711 (19,99 €)", D("-19.99"), "EUR", True),
    ],
    "fr-credit-agricole-compte.csv": [
        (
            5,
            Day(2026, 11, 2),
            "PRELEVEMENT EDF CLIENTS PARTICULIERS ECH 02/11/26 REF 1234567890",
            D("74.50"),
            "EUR",
            False,
        ),
        (7, Day(2026, 11, 3), "CARTE X1234 02/11 MONOPRIX PARIS 11", D("23.87"), "EUR", False),
    ],
    "neobank-revolut-account.csv": [
        (2, Day(2026, 11, 1), "Top-Up by *4821", D("-500.00"), "GBP", True),
        (3, Day(2026, 11, 2), "Pret A Manger", D("8.45"), "GBP", False),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_DIALECT))
def test_detect_gives_the_expected_dialect(name: str) -> None:
    d = detect(load(name))
    got = (d.encoding, d.delimiter, d.header_line, d.date_format, d.decimal, d.thousands, d.date_ambiguous)
    assert got == EXPECTED_DIALECT[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_MAPPING))
def test_guess_mapping_gives_the_expected_columns(name: str) -> None:
    data = load(name)
    table = read_table(data, detect(data))
    mapping = guess_mapping(table.header, table.rows)
    assert mapping == Mapping(**EXPECTED_MAPPING[name])
    assert (mapping.sign, mapping.skip_money_in) == ("negative_out", True)


@pytest.mark.parametrize("name", sorted(EXPECTED_HEADER))
def test_header_and_currency_guess(name: str) -> None:
    data = load(name)
    table = read_table(data, detect(data))
    currency, header = EXPECTED_HEADER[name]
    assert table.header == header
    assert guess_currency(table, guess_mapping(table.header, table.rows)) == currency


def _parsed(name: str) -> tuple[list[StatementRow], list[int]]:
    data = load(name)
    dialect = detect(data)
    table = read_table(data, dialect)
    default_currency = EXPECTED_TOTALS[name][0]
    mapping = guess_mapping(table.header, table.rows)
    return parse_rows(table, dialect, mapping, default_currency), [r.line for r in table.rejected]


@pytest.mark.parametrize("name", sorted(EXPECTED_TOTALS))
def test_parse_rows_totals(name: str) -> None:
    rows, rejected = _parsed(name)
    _, count, money_in, sums, importable, rejected_lines = EXPECTED_TOTALS[name]
    assert [r.problems for r in rows if r.problems] == []
    assert (len(rows), sum(r.money_in for r in rows), rejected) == (count, money_in, rejected_lines)
    total: dict[str, Decimal] = defaultdict(Decimal)
    kept: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert row.amount is not None
        assert row.currency is not None
        total[row.currency] += row.amount
        if row.importable:
            kept[row.currency] += row.amount
        assert row.skipped_reason == (SKIPPED_MONEY_IN if row.money_in else None)
    assert (dict(total), dict(kept)) == (sums, importable)


@pytest.mark.parametrize("name", sorted(EXPECTED_FIRST_ROWS))
def test_parse_rows_first_rows(name: str) -> None:
    rows, _ = _parsed(name)
    expected = EXPECTED_FIRST_ROWS[name]
    got = [(r.line, r.spent_on, r.title, r.amount, r.currency, r.money_in) for r in rows[: len(expected)]]
    assert got == expected


def test_overlapping_statements_share_their_last_days() -> None:
    """The "-2" files repeat rows of the first ones (for duplicate detection): same date, title, amount."""

    def keys(name: str) -> set[tuple[Any, ...]]:
        return {(r.spent_on, r.title, r.amount) for r in _parsed(name)[0]}

    assert len(keys("us-chase-checking.csv") & keys("us-chase-checking-2.csv")) == 4
    assert len(keys("de-dkb-girokonto.csv") & keys("de-dkb-girokonto-2.csv")) == 4


def test_neobank_reads_the_row_currency_and_ignores_the_time() -> None:
    rows, _ = _parsed("neobank-revolut-account.csv")
    by_line = {r.line: r for r in rows}
    assert (by_line[6].spent_on, by_line[6].currency, by_line[6].amount) == (Day(2026, 11, 4), "EUR", D("-229.54"))
    # A quoted two-line description becomes one line; the next row's line number counts both lines.
    assert (by_line[13].title, by_line[13].amount) == ("To Anna Smith Rent share November", D("650.00"))
    assert by_line[15].title == "Dishoom"


# --- Encodings -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"\xef\xbb\xbfDate,Amount\n", "utf-8-sig"),
        ("Café,12".encode(), "utf-8"),
        (b"Date,Amount\n", "utf-8"),
        ("Café,Straße,12".encode("latin-1"), "latin-1"),  # é = 0xE9, ß = 0xDF: same bytes in cp1252
        ("Café,12 €".encode("cp1252"), "cp1252"),  # € = 0x80, a control character in Latin-1
        ("SAINSBURY\u2019S,£12".encode("cp1252"), "cp1252"),  # right single quotation mark = 0x92
        (b"x\x81y \xe9", "latin-1"),  # 0x81 is undefined in cp1252
        ("Date,Amount\n".encode("utf-16"), "utf-16"),
    ],
)
def test_detect_encoding(data: bytes, encoding: str) -> None:
    assert detect_encoding(data) == encoding


def test_euro_and_pound_survive_cp1252() -> None:
    data = "Date;Text;Amount\n03.11.2026;Café €5 und £3;-5,00\n04.11.2026;Bäcker;-2,10\n".encode("cp1252")
    dialect = detect(data)
    assert dialect.encoding == "cp1252"
    table = read_table(data, dialect)
    assert table.rows[0][1] == "Café €5 und £3"
    assert read_table(data, dialect.with_overrides({"encoding": "latin-1"})).rows[0][1] == "Café \x805 und £3"


def test_bom_is_not_part_of_the_first_header_name() -> None:
    data = "\ufeffDate,Title,Amount\n2026-11-03,Tea,-3.50\n2026-11-04,Cake,-4.00\n".encode()
    assert read_table(data, detect(data)).header == ["Date", "Title", "Amount"]


def test_a_file_that_is_not_valid_in_the_chosen_encoding_is_refused() -> None:
    data = "Datum;Text;Betrag\n03.11.2026;Bäcker;-2,10\n".encode("latin-1")
    with pytest.raises(StatementError) as caught:
        read_table(data, detect(data).with_overrides({"encoding": "utf-8"}))
    assert (caught.value.field, caught.value.message) == ("encoding", "the file cannot be read as UTF-8")


# --- Table: multi-line cells, footers, line numbers ---------------------------------------------------------------

MULTILINE = (
    b"Date;Payee;Purpose;Amount\r\n"
    b'01.11.2026;Shop;"first line\r\nsecond line\r\nthird";-1,00\r\n'
    b"\r\n"
    b"02.11.2026;Cafe;Coffee;-2,50\r\n"
    b"Total;;-3,50\r\n"
    b"\r\n\r\n"
)


def test_multiline_cells_blank_lines_and_footer() -> None:
    dialect = detect(MULTILINE)
    assert (dialect.delimiter, dialect.header_line, dialect.decimal) == (";", 1, ",")
    table = read_table(MULTILINE, dialect)
    assert table.rows == [
        ["01.11.2026", "Shop", "first line\r\nsecond line\r\nthird", "-1,00"],
        ["02.11.2026", "Cafe", "Coffee", "-2,50"],
    ]
    assert table.lines == [2, 6]
    assert [(r.line, r.cells, r.reason) for r in table.rejected] == [
        (7, ["Total", "", "-3,50"], "3 cell(s) where the header has 4")
    ]
    rows = parse_rows(table, dialect, guess_mapping(table.header), "EUR")
    assert [(r.title, r.amount) for r in rows] == [
        ("Shop — first line second line third", D("1.00")),
        ("Cafe — Coffee", D("2.50")),
    ]


def test_header_names_are_made_unique_and_never_empty() -> None:
    data = b"Date,Amount,,Amount\n2026-01-02,-1.00,x,-2.00\n2026-01-03,-1.00,y,-2.00\n"
    assert read_table(data, detect(data)).header == ["Date", "Amount", "Column 3", "Amount (2)"]


def test_header_line_that_starts_no_row_is_refused() -> None:
    with pytest.raises(StatementError) as caught:
        read_table(MULTILINE, detect(MULTILINE).with_overrides({"header_line": "3"}))  # inside the quoted cell
    assert caught.value.field == "header_line"


# --- Numbers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("-1.234,56", ",", ".", D("-1234.56")),
        ("1.234,56", ",", ".", D("1234.56")),
        ("-1 050,00", ",", " ", D("-1050.00")),
        ("-1\u00a0050,00", ",", ".", D("-1050.00")),
        ("45,00-", ",", ".", D("-45.00")),
        ("12,5", ",", ".", D("12.5")),
        ("£1,150.00", ".", ",", D("1150.00")),
        ("(45.00)", ".", ",", D("-45.00")),
        ("+3,125.62", ".", ",", D("3125.62")),
        ("\u22128.45", ".", ",", D("-8.45")),
        ("12.50 EUR", ".", ",", D("12.50")),
        ("EUR -12,50", ",", ".", D("-12.50")),
        ("1'234.50", ".", "'", D("1234.50")),
        ("1234", ".", "", D("1234")),
        ("12.50 DR", ".", ",", D("-12.50")),
        ("£1,012.50CR", ".", ",", D("1012.50")),
        ("12.50 cr.", ".", ",", D("12.50")),
        ("  ", ".", ",", None),
    ],
)
def test_parse_number(text: str, decimal: str, thousands: str, expected: Decimal | None) -> None:
    assert parse_number(text, decimal, thousands) == expected


@pytest.mark.parametrize(
    ("text", "decimal", "thousands"),
    [
        ("1,234.56", ",", "."),  # written with the other convention
        ("12,34,56", ".", ","),
        ("1.2345,00", ",", "."),
        ("abc", ".", ","),
        ("1e5", ".", ","),
        ("--5", ".", ","),
        ("1,234", ".", ""),
        ("EUR", ".", ","),
        ("-", ".", ","),
        ("()", ".", ","),
        ("DR", ".", ","),
    ],
)
def test_parse_number_refuses(text: str, decimal: str, thousands: str) -> None:
    with pytest.raises(ValueError, match="is not an amount like"):
        parse_number(text, decimal, thousands)


def test_semicolon_with_decimal_comma_and_thousands_point() -> None:
    data = b"Datum;Text;Betrag\n03.11.2026;Miete;-1.250,00\n04.11.2026;Brot;-2,10\n"
    dialect = detect(data)
    assert (dialect.delimiter, dialect.decimal, dialect.thousands) == (";", ",", ".")
    rows = parse_rows(read_table(data, dialect), dialect, guess_mapping(["Datum", "Text", "Betrag"]), "EUR")
    assert [r.amount for r in rows] == [D("1250.00"), D("2.10")]


# --- Dates ----------------------------------------------------------------------------------------------------------


def test_ambiguous_dates_are_marked_and_prefer_the_day_first_for_a_euro_file() -> None:
    data = b"Datum;Text;Betrag\n03.11.2026;A;-1,00\n04/11/2026;B;-2,00\n"
    assert detect(data).date_ambiguous is False  # "." and "/" in one column: no format reads both

    data = "Date;Text;Amount\n03/11/2026;A;-1,00 €\n04/12/2026;B;-2,00 €\n".encode()
    dialect = detect(data)
    assert (dialect.date_format, dialect.date_ambiguous, dialect.date_formats) == (
        "%d/%m/%Y",
        True,
        ("%d/%m/%Y", "%m/%d/%Y"),
    )
    table = read_table(data, dialect)
    mapping = guess_mapping(table.header)
    assert parse_rows(table, dialect, mapping, "EUR")[0].spent_on == Day(2026, 11, 3)
    chosen = dialect.with_overrides({"date_format": "%m/%d/%Y"})
    assert (chosen.date_format, chosen.date_ambiguous) == ("%m/%d/%Y", False)
    assert parse_rows(table, chosen, mapping, "EUR")[0].spent_on == Day(2026, 3, 11)


def test_ambiguous_dates_prefer_the_month_first_for_a_dollar_file() -> None:
    data = b"Date,Description,Amount\n03/11/2026,A,-$1.00\n04/12/2026,B,-$2.00\n"
    dialect = detect(data)
    assert (dialect.date_format, dialect.date_ambiguous) == ("%m/%d/%Y", True)


def test_a_day_above_12_settles_the_order() -> None:
    data = b"Date,Description,Amount\n03/11/2026,A,-$1.00\n04/13/2026,B,-$2.00\n"
    dialect = detect(data)
    assert (dialect.date_format, dialect.date_ambiguous, dialect.date_formats) == ("%m/%d/%Y", False, ("%m/%d/%Y",))


# --- Overrides --------------------------------------------------------------------------------------------------------


def test_every_detected_value_can_be_overridden() -> None:
    data = b"Account;123\nDate;Text;Amount\n2026-11-03;A;-1,00\n2026-11-04;B;-2,00\n"
    dialect = detect(data)
    assert (dialect.header_line, dialect.delimiter) == (2, ";")
    changed = dialect.with_overrides(
        {
            "encoding": "cp1252",
            "delimiter": "tab",
            "header_line": "1",
            "date_format": "%d.%m.%Y",
            "decimal": ".",
            "thousands": "",
        }
    )
    assert msgspec.to_builtins(changed) == {
        "encoding": "cp1252",
        "delimiter": "\t",
        "header_line": 1,
        "date_format": "%d.%m.%Y",
        "decimal": ".",
        "thousands": "",
        "date_ambiguous": False,
        "date_formats": ("%Y-%m-%d",),
    }
    assert dialect.with_overrides({"delimiter": ",", "encoding": ""}).encoding == dialect.encoding
    # A Dialect round-trips through JSON (the wizard keeps it between steps).
    assert msgspec.json.decode(msgspec.json.encode(changed), type=Dialect) == changed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("encoding", "ebcdic"),
        ("delimiter", ":"),
        ("header_line", "-1"),
        ("header_line", "x"),
        ("header_line", "٣"),
        ("date_format", "%s"),
        ("decimal", ";"),
        ("thousands", "_"),
        ("thousands", "."),  # the same as the decimal separator below
        ("colour", "red"),
    ],
)
def test_bad_overrides_name_their_field(field: str, value: str) -> None:
    with pytest.raises(StatementError) as caught:
        Dialect(decimal=".").with_overrides({"decimal": ".", field: value})
    assert caught.value.field == field


def test_overriding_the_decimal_alone_swaps_the_thousands_separator() -> None:
    assert Dialect(decimal=".", thousands=",").with_overrides({"decimal": ","}).thousands == "."
    assert Dialect(decimal=",", thousands=".").with_overrides({"decimal": "."}).thousands == ","
    assert Dialect(decimal=".", thousands=" ").with_overrides({"decimal": ","}).thousands == " "
    with pytest.raises(StatementError):
        Dialect(decimal=".", thousands=",").with_overrides({"decimal": ",", "thousands": ","})


def test_overriding_the_delimiter_and_decimal_rereads_the_file() -> None:
    data = b"Date|Text|Amount\n2026-11-03|A|-1.234,50\n"
    dialect = Dialect().with_overrides({"delimiter": "|", "decimal": ",", "thousands": "."})
    table = read_table(data, dialect)
    rows = parse_rows(table, dialect, guess_mapping(table.header), "EUR")
    assert [(r.title, r.amount) for r in rows] == [("A", D("1234.50"))]


# --- Mapping ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Datum", "Empfänger", "Verwendungszweck", "Betrag", "Währung"],
            {
                "date": "Datum",
                "title": ("Empfänger", "Verwendungszweck"),
                "amount": "Betrag",
                "currency_column": "Währung",
            },
        ),
        (
            ["Date d'opération", "Libellé", "Débit", "Crédit", "Devise"],
            {
                "date": "Date d'opération",
                "title": ("Libellé",),
                "debit": "Débit",
                "credit": "Crédit",
                "currency_column": "Devise",
            },
        ),
        (
            ["Buchungstag", "Buchungstext", "Soll", "Haben", "Soll/Haben", "Kategorie", "Notiz"],
            {
                "date": "Buchungstag",
                "title": ("Buchungstext",),
                "debit": "Soll",
                "credit": "Haben",
                "category": "Kategorie",
                "notes": "Notiz",
            },
        ),
        (
            ["Date", "Payee", "Memo", "Amount", "Category", "Notes"],
            {
                "date": "Date",
                "title": ("Payee", "Memo"),
                "amount": "Amount",
                "category": "Category",
                "notes": "Notes",
            },
        ),
        # One side of a pair alone cannot tell money in from money out: it is not mapped.
        (["Date", "Description", "Debit"], {"date": "Date", "title": ("Description",)}),
        (["foo", "bar"], {}),
    ],
)
def test_guess_mapping_in_english_german_and_french(header: list[str], expected: dict[str, Any]) -> None:
    assert guess_mapping(header) == Mapping(**expected)


def test_validate_mapping() -> None:
    header = ["Date", "Text", "Out", "In", "Amount"]
    assert validate_mapping(Mapping(date="Date", title=("Text",), amount="Amount"), header) == {}
    assert validate_mapping(Mapping(date="Date", title=("Text",), debit="Out", credit="In"), header) == {}
    assert validate_mapping(Mapping(), header) == {
        "date": "choose the column with the date",
        "title": "choose the column with the description (or two: payee and purpose)",
        "amount": "choose the amount column (or a debit/credit pair)",
    }
    assert validate_mapping(Mapping(date="Day", title=("Text", "Nope"), amount="Amount", debit="Out"), header) == {
        "date": "there is no column 'Day'",
        "title": "there is no column 'Nope'",
        "amount": "choose either an amount column or a debit/credit pair, not both",
    }
    assert validate_mapping(Mapping(date="Date", title=("Text",), debit="Out"), header) == {
        "credit": "choose both the debit and the credit column"
    }
    with pytest.raises(StatementError):
        parse_rows(read_table(b"Date,Text\n2026-01-01,x\n", Dialect()), Dialect(), Mapping(), "EUR")


def test_mapping_overrides_from_a_form() -> None:
    mapping = Mapping(date="Date", title=("Text",), amount="Amount").with_overrides(
        {
            "title": ["Payee", "", "Text"],
            "sign": "positive_out",
            "skip_money_in": "off",
            "currency": " gbp ",
            "notes": "",
        }
    )
    assert mapping == Mapping(
        date="Date", title=("Payee", "Text"), amount="Amount", sign="positive_out", skip_money_in=False, currency="GBP"
    )
    for field, value in [("sign", "up"), ("skip_money_in", "maybe"), ("currency", "XXQ"), ("colour", "red")]:
        with pytest.raises(StatementError) as caught:
            mapping.with_overrides({field: value})
        assert caught.value.field == field


# --- Sign rule and row problems ---------------------------------------------------------------------------------------

SIGNED = b"Date,Text,Amount\n2026-11-03,Shop,-12.50\n2026-11-04,Salary,2000.00\n"


def test_sign_conventions_and_skip_rule() -> None:
    table = read_table(SIGNED, Dialect())
    base = Mapping(date="Date", title=("Text",), amount="Amount")
    rows = parse_rows(table, Dialect(), base, "EUR")
    assert [(r.amount, r.money_in, r.skipped_reason, r.importable) for r in rows] == [
        (D("12.50"), False, None, True),
        (D("-2000.00"), True, "money in (skipped by rule)", False),
    ]
    positive = parse_rows(table, Dialect(), msgspec.structs.replace(base, sign="positive_out"), "EUR")
    assert [(r.amount, r.money_in) for r in positive] == [(D("-12.50"), True), (D("2000.00"), False)]
    kept = parse_rows(table, Dialect(), msgspec.structs.replace(base, skip_money_in=False), "EUR")
    assert [(r.amount, r.skipped_reason, r.importable) for r in kept] == [
        (D("12.50"), None, True),
        (D("-2000.00"), None, True),  # a refund/income row: a negative expense
    ]


def test_debit_and_credit_cells_ignore_their_own_sign() -> None:
    data = (
        b"Date;Text;Debit;Credit\n2026-11-03;A;-12,50;\n2026-11-04;B;12,50;\n2026-11-05;C;;-3,00\n"
        b"2026-11-06;D;0,00;4,00\n"
    )
    dialect = detect(data)
    rows = parse_rows(read_table(data, dialect), dialect, guess_mapping(["Date", "Text", "Debit", "Credit"]), "EUR")
    assert [(r.title, r.amount, r.money_in) for r in rows] == [
        ("A", D("12.50"), False),
        ("B", D("12.50"), False),
        ("C", D("-3.00"), True),
        ("D", D("-4.00"), True),
    ]


BAD = (
    "Date;Payee;Purpose;Debit;Credit;Currency\n"
    "2026-11-01;Shop;Food;12,50;;EUR\n"  # 2: fine
    "2026-11-02;Shop;Both;12,50;3,00;EUR\n"  # 3
    "2026-13-45;Shop;Bad date;1,00;;EUR\n"  # 4
    ";Shop;No date;1,00;;EUR\n"  # 5
    "2026-11-05;Shop;Bad amount;12.50.1;;EUR\n"  # 6
    '2026-11-06;  ;"\n \n";1,00;;EUR\n'  # 7 (three lines)
    "2026-11-07;Shop;Too precise;12,345;;EUR\n"  # 10
    "2026-11-08;Shop;Yen cents;100,5;;JPY\n"  # 11
    "2026-11-09;Shop;Zero;0,00;;EUR\n"  # 12
    "2026-11-10;Shop;Unknown currency;1,00;;EUX\n"  # 13
    "2026-11-11;Shop;Huge;1.000.000.000,00;;EUR\n"  # 14
    "2026-11-12;Shop;Yen;1.500;;JPY\n"  # 15: fine
    "2026-11-13;Shop;Nothing;;;EUR\n"  # 16
    "2026-11-14;Shop;Exact;7,500;;EUR\n"  # 17: fine, trailing zero
)


def test_problems_are_reported_per_row() -> None:
    data = BAD.encode()
    dialect = Dialect(delimiter=";", decimal=",", thousands=".")
    table = read_table(data, dialect)
    rows = parse_rows(table, dialect, guess_mapping(table.header), "EUR")
    assert [(r.line, r.problems) for r in rows] == [
        (2, []),
        (3, ["both debit and credit are filled"]),
        (4, ["date: '2026-13-45' is not a date like 2026-12-31"]),
        (5, ["date: empty"]),
        (6, ["debit: '12.50.1' is not an amount like 1.234,56"]),
        (7, ["title: empty"]),
        (10, ["amount: 12.345 has more decimals than EUR has"]),
        (11, ["amount: 100.5 has more decimals than JPY has"]),
        (12, ["amount: neither debit nor credit is filled"]),
        (13, ["currency: 'EUX' is not an ISO 4217 code such as USD or EUR"]),
        (14, ["amount: more than 999999999.99"]),
        (15, []),
        (16, ["amount: neither debit nor credit is filled"]),
        (17, []),
    ]
    assert [r.importable for r in rows].count(True) == 3
    assert (rows[0].amount, rows[11].amount, rows[13].amount) == (D("12.50"), D("1500.00"), D("7.50"))
    assert rows[6].amount == D("12.345")  # shown as written, never rounded


def test_zero_in_a_single_amount_column_is_a_problem() -> None:
    data = b"Date,Text,Amount\n2026-11-03,Nothing,0.00\n2026-11-04,Empty,\n"
    rows = parse_rows(read_table(data, Dialect()), Dialect(), guess_mapping(["Date", "Text", "Amount"]), "EUR")
    assert [r.problems for r in rows] == [["amount: 0 is neither money out nor money in"], ["amount: empty"]]


def test_title_is_trimmed_joined_and_cut_to_200_characters() -> None:
    long = "x" * 250
    data = (
        f'Date,Payee,Purpose,Amount\n2026-11-03,"  Shop\n  GmbH ",{long},-1.00\n2026-11-04,Same,Same,-1.00\n'.encode()
    )
    rows = parse_rows(
        read_table(data, Dialect()), Dialect(), guess_mapping(["Date", "Payee", "Purpose", "Amount"]), "EUR"
    )
    assert rows[0].title == "Shop GmbH — " + "x" * 187 + "…"
    assert len(rows[0].title) == 200
    assert rows[1].title == "Same"  # the same text in both columns once


def test_fixed_currency_category_and_notes() -> None:
    data = b'Date,Text,Amount,Cat,Memo\n2026-11-03,Tea, -3.50 ,  Food  and drink ,"two\nlines"\n'
    mapping = Mapping(date="Date", title=("Text",), amount="Amount", category="Cat", notes="Memo", currency="CHF")
    [row] = parse_rows(read_table(data, Dialect()), Dialect(), mapping, "EUR")
    assert (row.amount, row.currency, row.category, row.notes) == (D("3.50"), "CHF", "Food and drink", "two\nlines")


def test_account_lines_with_the_data_width_are_not_the_header() -> None:
    """Some banks pad the lines above the header to the full width; a line holding a number or a date is data."""
    data = (
        b"Account;DE12 3456;Balance;1.234,56\n"
        b"Period;01.11.2026;to;30.11.2026\n"
        b"Date;Text;Amount;Balance\n"
        b"03.11.2026;Tea;-3,50;1.231,06\n"
        b"04.11.2026;Cake;-4,00;1.227,06\n"
    )
    dialect = detect(data)
    assert dialect.header_line == 3
    assert read_table(data, dialect).header == ["Date", "Text", "Amount", "Balance"]


# --- Any bytes: a clear StatementError or a result, never another exception -----------------------------------------

CSV_ALPHABET = st.sampled_from([*';,\t|"\r\n .-0123456789/:aäé€£$xDateAmount', "\x00", "\x80", "\ufeff"])
CELLS = st.sampled_from(
    [
        *("Date", "Amount", "Debit", "Credit", "Text", "Currency", "2026-11-03", "03.11.2026", "11/03/2026", "-1,00"),
        *("2.50", "12.345", "", "x\ny", "1e5", "9999999999999,99", "0", "(3.00)", "EUX", "JPY", '"', "a;b", "\x00"),
        "99/99/2026",
    ]
)
TABLES = st.lists(st.lists(CELLS, min_size=1, max_size=6), max_size=8)


def _csv_bytes(rows: list[list[str]], delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode()


@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(CSV_ALPHABET, max_size=300).map(lambda t: t.encode("utf-8")),
        st.builds(_csv_bytes, TABLES, st.sampled_from([",", ";", "\t"])),
    )
)
@settings(max_examples=300, deadline=None)
def test_any_input_gives_a_result_or_a_statement_error(data: bytes) -> None:
    try:
        dialect = detect(data)
        table = read_table(data, dialect)
        mapping = guess_mapping(table.header)
        if not validate_mapping(mapping, table.header):
            for row in parse_rows(table, dialect, mapping, "EUR"):
                assert row.importable == (row.skipped_reason is None and not row.problems)
                assert row.amount is None or row.amount != 0 or row.problems
    except StatementError:
        pass


def test_content_finds_the_columns_that_names_do_not_give_away() -> None:
    header = ["Ref", "Kind", "When", "What", "Money", "Balance"]
    rows = [
        ["1001", "CARD", "03/11/2026", "Tea shop", "-3.50", "96.50"],
        ["1002", "CARD", "04/11/2026", "Bakery", "-2.00", "94.50"],
        ["1003", "TRANSFER", "05/11/2026", "Salary", "100.00", "194.50"],
    ]
    assert guess_mapping(header) == Mapping()
    assert guess_mapping(header, rows) == Mapping(date="When", title=("What",), amount="Money")
    # Names win over content.
    named = ["Date", "Booked", "Description", "Memo", "Amount", "Balance"]
    assert guess_mapping(named, rows) == Mapping(date="Date", title=("Description",), amount="Amount")


def test_a_file_without_header_is_read_from_its_first_line() -> None:
    data = b"03.11.2026;Tea;-3,50\n04.11.2026;Cake;-4,00\n"
    dialect = detect(data)
    assert (dialect.header_line, dialect.decimal) == (0, ",")
    table = read_table(data, dialect)
    assert (table.header, table.lines) == (["Column 1", "Column 2", "Column 3"], [1, 2])
    assert read_table(data, dialect.with_overrides({"header_line": "1"})).header == ["03.11.2026", "Tea", "-3,50"]


def test_content_prefers_a_column_with_negative_numbers_for_the_amount() -> None:
    rows = [["03/11/2026", "96.50", "Tea shop", "-3.50"], ["04/11/2026", "94.50", "Bakery", "(2.00)"]]
    mapping = guess_mapping(["When", "Left", "What", "Money"], rows)
    assert (mapping.date, mapping.amount, mapping.title) == ("When", "Money", ("What",))


def test_a_second_date_column_does_not_vote_for_the_decimal_point() -> None:
    data = b'Date,Value date,Text,Amount\n01.12.26,02.12.26,A,"-1,50"\n03.12.26,04.12.26,B,"-2,50"\n'
    dialect = detect(data)
    assert (dialect.date_format, dialect.decimal, dialect.thousands) == ("%d.%m.%y", ",", ".")
