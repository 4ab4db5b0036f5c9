"""Folding text for the search, the same on both sides of every comparison, on PostgreSQL and SQLite.

PostgreSQL: SQL (``et_unaccent``, migration 0015) and pg_trgm; the expression :class:`folded` compiles to is the one
the index ``ix_expense_search`` is built on. SQLite: Python functions the app registers on every connection
(:func:`register_sqlite_functions`). The search box itself is ``domain/expenses/search.py``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Boolean, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SEARCH_WORD_SIMILARITY = 0.5
"""pg_trgm ``word_similarity`` from which one word (of at least ``TYPO_MIN_LENGTH`` letters) counts as a typo of part
of the text. 0.5 forgives one wrong, missing or swapped letter in words of 6+ letters ("groceires" 0.5, "grocries"
0.58, "insurence" 0.54, all missed at pg_trgm's default 0.6). tests/test_search.py holds both sides."""
SEARCH_PHRASE_SIMILARITY = 0.6
"""pg_trgm ``strict_word_similarity`` from which several words together count as a typo of part of the text: "trder
joes" (0.64) finds "Trader Joe's" although "trder" alone (0.44) is too short to forgive, while "coffee taxi" (0.58,
one word right and one absent) finds nothing. tests/test_search.py holds both sides."""
SEARCH_PHRASE_WORD_FLOOR = 0.4
"""With several words forgiven together, each word's own ``word_similarity`` must reach this: "trder" (0.44) in "trder
joes" does, "5" in "restaurant 5" (0: no "5" anywhere) does not, although the two words together are 0.85 similar to
"Restaurant" alone. tests/test_search.py holds both sides."""
TYPO_MIN_LENGTH = 5
"""Letters and digits a word needs before typos are forgiven: a shorter one has too few trigrams to tell a typo from
another word ("rent" would find "refund"), and SQLite's edit distance would find "cent" for it."""
POSTGRES_SEARCH_SETTINGS = {
    "pg_trgm.word_similarity_threshold": str(SEARCH_WORD_SIMILARITY),
    "pg_trgm.strict_word_similarity_threshold": str(SEARCH_PHRASE_SIMILARITY),
}
"""Sent by asyncpg when it opens a connection (``server_settings``, no round trip): placeholders until pg_trgm loads in
that session, which then takes them up; accepted without the extension too (a database before migration 0015)."""

# Letters that Unicode decomposition leaves alone but PostgreSQL's unaccent rules map (the common ones).
_FOLD_EXTRA = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i", "ħ": "h", "ŧ": "t"}
)
# ' and the forms PostgreSQL's unaccent turns into it (right, left and reversed single quotes, modifier letter
# apostrophe, prime), which the fold then drops.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u201b\u02bc\u2032")


def fold_text(value: str | None) -> str | None:
    """SQLite's ``et_fold``: what PostgreSQL's ``translate(et_unaccent(lower(x)), '''', '')`` does, in Python."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA).translate(_APOSTROPHES)


def _typos_allowed(length: int) -> int:
    return 0 if length < TYPO_MIN_LENGTH else 1 if length < 9 else 2


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two neighbours is one edit), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


_WORDS = re.compile(r"[^\W_]+")


def _word_close(wanted: str, word: str, prefix: bool) -> bool:
    limit = _typos_allowed(len(wanted))
    if _distance(wanted, word, limit) <= limit:
        return True
    # A word's beginning ("groc" for "groceries"), with the same typos as a whole word ("grocr" for "groce...").
    return prefix and len(word) > len(wanted) and _distance(wanted, word[: len(wanted)], limit) <= limit


def similar(term: str | None, document: str | None) -> int:
    """SQLite's ``et_similar``: 1 when some run of the document's words holds the term's words in order, each equal
    or with its own few typos (1 from ``TYPO_MIN_LENGTH`` letters, 2 from 9), the last one possibly a word's prefix."""
    if not term or not document:
        return 0
    wanted = _WORDS.findall(term)
    words = _WORDS.findall(document)
    if not wanted:
        return 0
    for start in range(len(words) - len(wanted) + 1):
        window = words[start : start + len(wanted)]
        last = len(wanted) - 1
        if all(_word_close(w, d, prefix=i == last) for i, (w, d) in enumerate(zip(wanted, window, strict=True))):
            return 1
    return 0


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Called on every new SQLite connection (``app._sqlite_pragmas``): the search's functions."""
    dbapi_connection.create_function("et_fold", 1, fold_text, deterministic=True)
    dbapi_connection.create_function("et_similar", 2, similar, deterministic=True)


SEARCH_INDEX_EXPRESSION = "translate(et_unaccent(lower((title::text || ' '::text) || notes)), ''''::text, ''::text)"
"""The second column of ``ix_expense_search`` as PostgreSQL prints it back (``pg_get_indexdef``): the expression
``folded(expense.title, expense.notes)`` compiles to on PostgreSQL, with the casts made explicit."""


class folded(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it stands for
    """``folded(a, b, ...)``: the columns joined by spaces, lower-cased, accents removed, apostrophes dropped.

    PostgreSQL: ``translate(et_unaccent(lower(a || ' ' || b)), '''', '')``, character for character the expression
    of the index ``ix_expense_search`` (migration 0015), so the planner can use it; SQLite: ``et_fold(...)``.
    """

    type = Text()
    inherit_cache = True
    name = "folded"


def _joined(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return " || ' ' || ".join(compiler.process(argument, **kw) for argument in element.clauses)


@compiles(folded, "postgresql")
def _folded_postgresql(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"translate(et_unaccent(lower({_joined(element, compiler, **kw)})), '''', '')"


@compiles(folded)
def _folded_default(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"et_fold({_joined(element, compiler, **kw)})"


class similar_to(FunctionElement[bool]):  # noqa: N801
    """``similar_to(term, document)``, both folded: PostgreSQL ``term <% document`` (pg_trgm, indexed); SQLite
    ``et_similar(term, document) = 1``."""

    type = Boolean()
    inherit_cache = True
    name = "similar_to"


@compiles(similar_to, "postgresql")
def _similar_postgresql(element: similar_to, compiler: SQLCompiler, **kw: Any) -> str:
    term, document = list(element.clauses)
    return f"({compiler.process(term, **kw)} <% {compiler.process(document, **kw)})"


@compiles(similar_to)
def _similar_default(element: similar_to, compiler: SQLCompiler, **kw: Any) -> str:
    term, document = list(element.clauses)
    return f"(et_similar({compiler.process(term, **kw)}, {compiler.process(document, **kw)}) = 1)"


class phrase_similar_to(FunctionElement[bool]):  # noqa: N801
    """``phrase_similar_to(text, document)``: several words at once. PostgreSQL ``text <<% document``
    (``strict_word_similarity``, at its own stricter threshold; indexed); SQLite ``et_similar`` as for one word."""

    type = Boolean()
    inherit_cache = True
    name = "phrase_similar_to"


@compiles(phrase_similar_to, "postgresql")
def _phrase_postgresql(element: phrase_similar_to, compiler: SQLCompiler, **kw: Any) -> str:
    term, document = list(element.clauses)
    return f"({compiler.process(term, **kw)} <<% {compiler.process(document, **kw)})"


@compiles(phrase_similar_to)
def _phrase_default(element: phrase_similar_to, compiler: SQLCompiler, **kw: Any) -> str:
    term, document = list(element.clauses)
    return f"(et_similar({compiler.process(term, **kw)}, {compiler.process(document, **kw)}) = 1)"


def typo_tolerant(term: str) -> bool:
    """Whether ``term`` is long enough (letters and digits) for a typo to be forgiven (``TYPO_MIN_LENGTH``)."""
    return sum(c.isalnum() for c in term) >= TYPO_MIN_LENGTH


class shares_word(FunctionElement[bool]):  # noqa: N801
    """``shares_word(word, document)``: on PostgreSQL ``word_similarity(word, document) >= SEARCH_PHRASE_WORD_FLOOR``,
    a recheck (not indexed) beside :class:`phrase_similar_to`, so that one long word right cannot carry a short one
    that is absent ("restaurant 5"). SQLite's ``et_similar`` already compares word by word: true there."""

    type = Boolean()
    inherit_cache = True
    name = "shares_word"


@compiles(shares_word, "postgresql")
def _shares_postgresql(element: shares_word, compiler: SQLCompiler, **kw: Any) -> str:
    word, document = list(element.clauses)
    floor = SEARCH_PHRASE_WORD_FLOOR
    return f"(word_similarity({compiler.process(word, **kw)}, {compiler.process(document, **kw)}) >= {floor})"


@compiles(shares_word)
def _shares_default(element: shares_word, compiler: SQLCompiler, **kw: Any) -> str:
    return "(1 = 1)"


class among(FunctionElement[bool]):  # noqa: N801
    """``among(column, scalar_subquery)``: the column's value is one of the subquery's rows. PostgreSQL
    ``column = ANY(ARRAY(subquery))``: the subquery runs once (an InitPlan) and the array is a plain parameter, so an
    OR with an indexed condition stays a BitmapOr of index scans (``IN (subquery)`` or ``EXISTS`` turn the whole OR
    into a filter over every row of the user: ``ix_expense_search`` unused). SQLite: ``column IN (subquery)``."""

    type = Boolean()
    inherit_cache = True
    name = "among"


@compiles(among, "postgresql")
def _among_postgresql(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, subquery = list(element.clauses)
    return f"({compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(subquery, **kw)}))"


@compiles(among)
def _among_default(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, subquery = list(element.clauses)
    return f"({compiler.process(column, **kw)} IN {compiler.process(subquery, **kw)})"
