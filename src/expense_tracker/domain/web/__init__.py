"""The server-rendered browser UI: Jinja templates over the same services as the JSON API."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PATH = "/static"
STATIC_MAX_AGE = 365 * 24 * 3600


@cache
def asset_versions() -> dict[str, str]:
    """Content hash per static file: URLs change when files do, so they can be cached for a year."""
    return {
        p.relative_to(STATIC_DIR).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in STATIC_DIR.rglob("*")
        if p.is_file()
    }


def asset(name: str) -> str:
    return f"{STATIC_PATH}/{name}?v={asset_versions()[name]}"


def template_config() -> Any:
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.template.config import TemplateConfig

    from expense_tracker.lib import formatting
    from expense_tracker.lib.currencies import active_currency_list

    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.globals.update(
            asset=asset, active_currencies=active_currency_list, amount_example=formatting.amount_example
        )
        env.filters.update(
            money=formatting.money,
            number=formatting.number,
            amount_input=formatting.amount_input,
            rate_number=formatting.rate_number,
            day=formatting.day,
            month_label=formatting.month_label,
            currency_name=formatting.currency_name,
        )
        env.trim_blocks = True
        env.lstrip_blocks = True

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)


def static_router() -> Any:
    from litestar.datastructures import CacheControlHeader
    from litestar.static_files import create_static_files_router

    from expense_tracker.domain.accounts.auth import PUBLIC_OPT_KEY

    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=STATIC_MAX_AGE, public=True, immutable=True),
        opt={PUBLIC_OPT_KEY: True},
    )


def web_controllers() -> list[Any]:
    from expense_tracker.domain.web.account_pages import AccountPages
    from expense_tracker.domain.web.auth_pages import AuthPages
    from expense_tracker.domain.web.bank_import_pages import BankImportPages
    from expense_tracker.domain.web.budget_pages import BudgetPages
    from expense_tracker.domain.web.category_pages import CategoryPages
    from expense_tracker.domain.web.expense_pages import DashboardPage, ExpensePages
    from expense_tracker.domain.web.rate_pages import RatePages
    from expense_tracker.domain.web.recurring_pages import RecurringPages
    from expense_tracker.domain.web.report_pages import ReportPages
    from expense_tracker.domain.web.split_pages import SplitPages
    from expense_tracker.domain.web.tag_pages import TagPages
    from expense_tracker.domain.web.trash_pages import TrashPages

    return [
        AuthPages,
        DashboardPage,
        ExpensePages,
        CategoryPages,
        ReportPages,
        AccountPages,
        RatePages,
        BankImportPages,
        RecurringPages,
        BudgetPages,
        TrashPages,
        TagPages,
        SplitPages,
        static_router(),
    ]
