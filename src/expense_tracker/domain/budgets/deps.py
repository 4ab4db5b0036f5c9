"""Request parameters of the budgets, shared by the JSON API and the pages."""

from __future__ import annotations

import datetime as dt
import re

from expense_tracker.constants import REPORT_YEAR_MAX, REPORT_YEAR_MIN
from expense_tracker.domain.reports.deps import parse_month
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import month_start

_YEAR = re.compile(r"^\d{4}$")


def parse_budget_month(raw: str | None, today: dt.date) -> dt.date:
    """``YYYY-MM`` -> its first day; blank: ``today``'s month (``today`` in the user's time zone)."""
    if raw is None or not raw.strip():
        return month_start(today)
    return parse_month(raw.strip())


def parse_year(raw: str | None, today: dt.date) -> int:
    if raw is None or not raw.strip():
        return today.year
    value = raw.strip()
    if not _YEAR.match(value) or not REPORT_YEAR_MIN <= int(value) <= REPORT_YEAR_MAX:
        raise FieldValidationError(
            [{"field": "year", "message": f"must be YYYY, {REPORT_YEAR_MIN} to {REPORT_YEAR_MAX}"}]
        )
    return int(value)
