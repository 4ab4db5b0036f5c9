"""The search box: free text matched case-, accent- and typo-insensitively, plus operators mapped to the filters.

``q`` is what a person types: words, "quoted phrases" and operators (``tag:food``, ``amount:>100``, ``amount:<5``,
``amount:12.50``, ``before:2026-01-01``, ``after:2025-12-31``, ``category:Groceries``, ``currency:EUR``; a value with
spaces in quotes: ``category:"Eating out"``). A word whose prefix is no operator (``12:30``, ``re:invoice``) is text.

Matching (every word or phrase must match the expense's title or notes, after folding both sides the same way:
lower case, accents removed, apostrophes dropped, so "cafe" finds "Café" and "joes" finds "Trader Joe's"):

- a *substring* of the folded text: covers word prefixes ("groc" finds "Groceries") and what the search found before;
- or, on PostgreSQL, *similar* to part of it (pg_trgm ``word_similarity`` at least ``SEARCH_WORD_SIMILARITY``):
  a typo ("grocereis", "insurence");
- or, for several words, the whole text similar to part of it ("trder joes" finds "Trader Joe's": "trder" alone is
  too short for a trigram to forgive a missing letter, the two words together are not).

On PostgreSQL both sides are folded by SQL (``et_unaccent``, migration 0015, the same rules the index was built with)
and a GIN index over (user_id, folded title and notes) answers the substring and similarity tests. On SQLite the app
registers ``et_fold`` and ``et_similar`` (Python) on every connection: accents via Unicode decomposition plus the
letters that do not decompose (ø, ł, æ, œ, ß...), typos as an edit distance per word (1 from 4 letters, 2 from 8),
read row by row (no index: SQLite is the single-user development database).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Text, and_, bindparam, or_

from expense_tracker.db.folding import folded, phrase_similar_to, shares_word, similar_to, typo_tolerant
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.query import parse_date

SEARCH_TERMS_MAX = 8
"""Words and phrases in one search: each is one more index condition."""
OPERATORS = ("tag", "amount", "before", "after", "category", "currency")
CENT = Decimal("0.01")
"""Amounts are stored with two decimals: ``> 100`` is ``>= 100.01`` exactly, in every currency."""

# operator:"quoted value" | operator:value | "quoted phrase" (an unterminated quote runs to the end) | word
_TOKEN = re.compile(r'(?P<op>[A-Za-z]+):(?:"(?P<opq>[^"]*)"?|(?P<opv>\S*))|"(?P<phrase>[^"]*)"?|(?P<word>\S+)')
_AMOUNT = re.compile(r"^(?P<cmp>>=|<=|>|<|=)?\s*(?P<num>-?[0-9]+(?:[.,][0-9]{1,2})?)$")
AMOUNT_OPERATOR_MESSAGE = (
    "amount: takes a number with an optional comparison, e.g. amount:>100, amount:<5, amount:12.50 "
    "(no thousands separators, at most 2 decimals)"
)


@dataclass(frozen=True)
class Token:
    """One piece of ``q`` as typed: an operator (``operator`` set) or a word/phrase of free text."""

    raw: str
    operator: str | None
    value: str
    quoted: bool = False
    """A "quoted phrase": matched as written (case, accents and apostrophes aside), never as a typo."""


class SearchFilters(msgspec.Struct, frozen=True):
    """What ``q`` asks for: its free text and its operators, checked and typed (``None``/empty: not asked)."""

    words: tuple[str, ...] = ()
    """Words of the free text, each required (contained, or with a typo)."""
    phrases: tuple[str, ...] = ()
    """Quoted phrases, each required as written."""
    text: str | None = None
    """The free text as typed, phrases quoted."""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    currencies: tuple[str, ...] = ()
    category_names: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    """Tag names (``tag:food``); the tags filter applies them (tags slice)."""


def tokenize(q: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(q):
        raw = match.group(0)
        operator = match.group("op")
        if operator is not None and operator.lower() in OPERATORS:
            value = match.group("opq") if match.group("opq") is not None else match.group("opv") or ""
            tokens.append(Token(raw, operator.lower(), value.strip()))
        elif operator is not None:  # "re:invoice", "12:30" style text: the whole token is a word
            tokens.append(Token(raw, None, raw))
        elif match.group("phrase") is not None:
            phrase = " ".join(match.group("phrase").split())
            if phrase:
                tokens.append(Token(raw, None, phrase, quoted=True))
        else:
            tokens.append(Token(raw, None, match.group("word")))
    return tokens


def without_token(tokens: list[Token], index: int) -> str:
    """``q`` with one token removed (a chip's "remove" link)."""
    return " ".join(t.raw for i, t in enumerate(tokens) if i != index)


def _amount_bounds(value: str) -> tuple[Decimal | None, Decimal | None]:
    match = _AMOUNT.match(value)
    if match is None:
        raise ValueError(AMOUNT_OPERATOR_MESSAGE)
    try:
        number = Decimal(match.group("num").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(AMOUNT_OPERATOR_MESSAGE) from None
    comparison = match.group("cmp") or "="
    return {
        ">": (number + CENT, None),
        ">=": (number, None),
        "<": (None, number - CENT),
        "<=": (None, number),
        "=": (number, number),
    }[comparison]


def _tighter(current: Any, new: Any, pick: Any) -> Any:
    return new if current is None else current if new is None else pick(current, new)


def parse_search(q: str) -> tuple[str, dict[str, list[str]]]:
    """``q`` as (free text, operators as the query parameters of the filters they map to, machine format).

    ``amount:>100`` -> ``min_amount=100.01``, ``before:2026-01-01`` -> ``to=2025-12-31``, ``after:`` -> ``from``,
    ``currency:eur`` -> ``currency=EUR``, ``tag:food`` -> ``tag=food``, ``category:Groceries`` -> ``category=Groceries``
    (a name: the filter matches it case- and accent-insensitively). Raises :class:`FieldValidationError` on ``q``
    naming the operator when a value is bad.
    """
    found = search_filters(q)
    params: dict[str, list[str]] = {}

    def add(name: str, value: object) -> None:
        if value is not None:
            params.setdefault(name, []).append(str(value))

    add("min_amount", found.min_amount)
    add("max_amount", found.max_amount)
    add("from", found.date_from)
    add("to", found.date_to)
    for code in found.currencies:
        add("currency", code)
    for name in found.category_names:
        add("category", name)
    for tag in found.tags:
        add("tag", tag)
    return found.text or "", params


@dataclass
class _Found:
    words: list[str]
    phrases: list[str]
    low: Decimal | None = None
    high: Decimal | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    currencies: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def add(self, operator: str, value: str) -> None:
        """One operator's value, checked (``ValueError`` says why); bounds of the same kind keep the tighter one."""
        if operator == "amount":
            at_least, at_most = _amount_bounds(value)
            self.low, self.high = _tighter(self.low, at_least, max), _tighter(self.high, at_most, min)
        elif operator == "before":
            self.end = _tighter(self.end, _day(operator, value) - dt.timedelta(days=1), min)
        elif operator == "after":
            self.start = _tighter(self.start, _day(operator, value) + dt.timedelta(days=1), max)
        elif operator == "currency":
            self.currencies = tuple(dict.fromkeys((*self.currencies, parse_currency(value))))
        elif operator == "category":
            self.categories = (*self.categories, value)
        else:
            self.tags = (*self.tags, value)


def search_filters(q: str) -> SearchFilters:
    """Read ``q``; every bad operator is named in one 400 (field ``q``), like the other filters' errors."""
    errors: list[str] = []
    found = _Found(words=[], phrases=[])
    for token in tokenize(q):
        if token.operator is None:
            (found.phrases if token.quoted else found.words).append(token.value)
        elif not token.value:
            errors.append(f"{token.operator}: needs a value, e.g. {_EXAMPLES[token.operator]}")
        else:
            try:
                found.add(token.operator, token.value)
            except ValueError as exc:
                message = str(exc)
                errors.append(message if message.startswith(f"{token.operator}:") else f"{token.operator}: {message}")
    if len(found.words) + len(found.phrases) > SEARCH_TERMS_MAX:
        errors.append(f"at most {SEARCH_TERMS_MAX} words or phrases")
    if errors:
        raise FieldValidationError([{"field": "q", "message": "; ".join(errors)}])
    return SearchFilters(
        words=tuple(found.words),
        phrases=tuple(found.phrases),
        text=" ".join([*found.words, *(f'"{p}"' for p in found.phrases)]) or None,
        min_amount=found.low,
        max_amount=found.high,
        date_from=found.start,
        date_to=found.end,
        currencies=found.currencies,
        category_names=found.categories,
        tags=found.tags,
    )


_EXAMPLES = {
    "tag": "tag:food",
    "amount": "amount:>100",
    "before": "before:2026-01-01",
    "after": "after:2025-12-31",
    "category": "category:Groceries",
    "currency": "currency:EUR",
}


def _day(operator: str, value: str) -> dt.date:
    try:
        day = parse_date(value)
    except ValueError:
        raise ValueError(f"{operator}: takes a date as YYYY-MM-DD, e.g. {_EXAMPLES[operator]}") from None
    if not dt.date(1900, 1, 2) <= day <= dt.date(9998, 12, 30):
        raise ValueError(f"{operator}: takes a date in the years 1900 to 9998")
    return day


def _like_pattern(term: str) -> str:
    escaped = term.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


Test = Callable[[ColumnElement[str]], ColumnElement[bool]]
"""A condition on one folded document (a :class:`folded` expression)."""
AnyDocument = Callable[[Test], ColumnElement[bool]]
"""Applies a :data:`Test` to every document an expense is searched by (title and notes; tag names at merge): true
when one of them passes."""


def _param(value: str) -> ColumnElement[str]:
    return folded(bindparam(None, value, type_=Text()))


def contains(term: str) -> Test:
    """The document contains ``term`` (folded the same way, LIKE wildcards taken literally)."""
    return lambda document: document.like(_param(_like_pattern(term)), escape="/")


def holds_word(term: str) -> Test:
    """The document contains the word, or (``TYPO_MIN_LENGTH`` letters or more) holds it with a typo."""
    if not typo_tolerant(term):
        return contains(term)
    return lambda document: or_(contains(term)(document), similar_to(_param(term), document))


def text_matches(search: SearchFilters, any_document: AnyDocument) -> ColumnElement[bool]:
    """Every word is held (contained, or with a typo) and every phrase contained, each by one of the documents; or,
    for several words, one document holds them all together with typos (and the phrases). Terms are folded by the
    database too (PostgreSQL's unaccent rules on both sides)."""
    words = and_(*(any_document(holds_word(term)) for term in search.words)) if search.words else None
    together = " ".join(search.words)
    if words is not None and len(search.words) > 1 and typo_tolerant(together):
        words = or_(
            words,
            any_document(
                lambda document: and_(
                    phrase_similar_to(_param(together), document),
                    *(shares_word(_param(term), document) for term in search.words),
                )
            ),
        )
    phrases = [any_document(contains(phrase)) for phrase in search.phrases]
    return and_(*([words] if words is not None else []), *phrases)


_COMPARISON_LABELS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def operator_label(token: Token) -> str:
    """A chip's text for an operator of ``q`` (already checked): "Amount > 100", "Before 2026-01-01", "Tag: food"."""
    if token.operator == "amount":
        match = _AMOUNT.match(token.value)
        comparison, number = (match.group("cmp") or "=", match.group("num")) if match else ("=", token.value)
        return f"Amount {_COMPARISON_LABELS[comparison]} {number}"
    if token.operator in ("before", "after"):
        return f"{token.operator.capitalize()} {token.value}"
    value = token.value.upper() if token.operator == "currency" else token.value
    return f"{(token.operator or '').capitalize()}: {value}"


@dataclass(frozen=True)
class Chip:
    label: str
    q: str
    """``q`` without this operator."""


def operator_chips(q: str | None) -> list[Chip]:
    """The operators of a (valid) ``q``, each with the ``q`` that removes it: the list page's removable chips."""
    tokens = tokenize(q or "")
    return [Chip(operator_label(t), without_token(tokens, i)) for i, t in enumerate(tokens) if t.operator is not None]
