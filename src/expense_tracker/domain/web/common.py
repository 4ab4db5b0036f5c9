"""Shared pieces of the server-rendered UI."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar import Request
from litestar.response import Redirect, Template

HTML_OPT = {"html": True}
"""Route option marking browser pages: errors render as HTML pages and 401 redirects to the sign-in page."""

NOTICES = {
    "added": "Expense added.",
    "saved": "Changes saved.",
    "deleted": "Expense deleted.",
    "category-added": "Category added.",
    "category-saved": "Category saved.",
    "category-deleted": "Category deleted.",
    "settings-saved": "Settings saved.",
    "rate-added": "Exchange rate added.",
    "rate-deleted": "Exchange rate deleted.",
    "signed-out": "You are signed out.",
    "split-added": "Split payment added.",
    "split-saved": "Split payment saved.",
    "split-deleted": "Split payment deleted.",
}


def render(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    notice = NOTICES.get(request.query_params.get("msg", ""))
    user = request.scope.get("user")  # absent on public pages (sign-in)
    context = {"notice": notice, "user": user, "theme": getattr(user, "theme", "system"), **context}
    return Template(template_name=template, context=context, status_code=status_code)


def see_other(path: str, **query: str) -> Redirect:
    """303 after a successful form POST, so reloading the next page never re-submits. Keeps ``path``'s own query."""
    parts = urlsplit(path)
    merged = {k: v for k, v in parse_qsl(parts.query) if k != "msg"} | query
    return Redirect(with_query(parts.path, merged), status_code=303)


def with_query(path: str, params: dict[str, Any]) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path
