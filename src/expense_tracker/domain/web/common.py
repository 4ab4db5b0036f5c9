"""Shared pieces of the server-rendered UI."""

from __future__ import annotations

import uuid
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
    "recurring-added": "Recurring expense added.",
    "recurring-saved": "Recurring expense saved. The change applies to future expenses only.",
    "recurring-paused": "Recurring expense paused.",
    "recurring-resumed": "Recurring expense resumed. Dates missed while paused are not created.",
    "recurring-deleted": "Recurring expense moved to the trash. The expenses it created are kept.",
    "budget-saved": "Budget saved.",
    # Trash and undo: deletes and edits above carry an "Undo" (``undo=<trash item id>``).
    "undone": "Change undone.",
    "restored": "Restored.",
    "expense-restored": "Expense restored.",
    "category-restored": "Category restored, with its expenses.",
    "expense-restored-uncategorised": "Expense restored. Its category has been deleted since, so it has none now.",
    "restored-partly": "Restored. What changed since it was deleted stays as it is now.",
    "trash-deleted": "Deleted forever.",
    "trash-emptied": "Trash emptied.",
    "tag-added": "Tag added.",
    "tag-renamed": "Tag renamed.",
    "tag-merged": "Tags merged.",
    "tag-deleted": "Tag deleted; its expenses keep everything else.",
    "split-added": "Split payment added.",
    "split-saved": "Split payment saved.",
    "split-deleted": "Split payment moved to the trash.",
}


def render(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    notice = NOTICES.get(request.query_params.get("msg", ""))
    user = request.scope.get("user")  # absent on public pages (sign-in)
    context = {
        "notice": notice,
        "user": user,
        "theme": getattr(user, "theme", "system"),
        **undo_context(request),
        **context,
    }
    return Template(template_name=template, context=context, status_code=status_code)


def undo_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The notice's "Undo" form: the trash item of the delete or edit just done, and this page to come back to."""
    raw = request.query_params.get("undo", "")
    try:
        undo = uuid.UUID(raw) if raw and request.query_params.get("msg") in NOTICES else None
    except ValueError:
        undo = None  # a hand-edited URL: no button rather than an error page
    kept = [(k, v) for k, v in parse_qsl(request.url.query) if k not in ("msg", "undo")]  # repeated keys kept
    here = f"{request.url.path}?{urlencode(kept)}" if kept else request.url.path
    return {"undo": undo, "undo_next": here}


def see_other(path: str, **query: str) -> Redirect:
    """303 after a successful form POST, so reloading the next page never re-submits. Keeps ``path``'s own query."""
    parts = urlsplit(path)
    merged = {k: v for k, v in parse_qsl(parts.query) if k != "msg"} | query
    return Redirect(with_query(parts.path, merged), status_code=303)


def with_query(path: str, params: dict[str, Any]) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", [])}
    # doseq: a list is a repeated parameter (``tag=a&tag=b``).
    return f"{path}?{urlencode(clean, doseq=True)}" if clean else path
