"""The Trash page and the "Undo" of every delete/edit notice: plain POST forms, so they work without JavaScript."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.db.models import User
from expense_tracker.dependencies import Trash
from expense_tracker.domain.accounts.auth import safe_next
from expense_tracker.domain.trash.schemas import RestoreResult
from expense_tracker.domain.web.common import HTML_OPT, render, see_other

KIND_LABELS = {"expense": "Expense", "category": "Category", "schedule": "Recurring expense", "edit": "Change"}


def restored_notice(result: RestoreResult) -> str:
    """The ``msg`` after a restore: what came back, and whether something could not come back as it was."""
    if result.kind == "edit":
        return "undone"
    if not result.notes:
        return f"{result.kind}-restored" if result.kind in ("expense", "category") else "restored"
    if result.kind == "expense" and result.restored.get("expense") == 1 and len(result.notes) == 1:
        return "expense-restored-uncategorised"
    return "restored-partly"


async def _confirm_item(request: Request[User, Any, Any], item_id: uuid.UUID, trash: Trash) -> Template:
    item = await trash.get_owned(request.user.id, item_id)
    return render(request, "trash_confirm.html", item=item, kind=KIND_LABELS.get(item.kind, item.kind))


async def _confirm_empty(request: Request[User, Any, Any], trash: Trash) -> Template:
    return render(request, "trash_confirm.html", item=None, count=len(await trash.list_for(request.user.id)))


class TrashPages(Controller):
    path = "/trash"
    include_in_schema = False
    opt = HTML_OPT

    @get("/")
    async def list_page(self, request: Request[User, Any, Any], trash: Trash) -> Template:
        zone = ZoneInfo(request.user.timezone)
        items = [
            {
                "item": item,
                "kind": KIND_LABELS.get(item.kind, item.kind),
                "deleted_on": item.deleted_at.astimezone(zone).date(),
            }
            for item in await trash.list_for(request.user.id)
        ]
        return render(request, "trash.html", items=items)

    @post("/{item_id:uuid}/restore")
    async def restore(
        self,
        request: Request[User, Any, Any],
        item_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        trash: Trash,
    ) -> Redirect:
        """ "Restore" on the Trash page and "Undo" in a notice; back to ``next`` (the page the notice was on)."""
        result = await trash.restore(request.user.id, item_id)
        return see_other(safe_next(data.get("next") or "/trash"), msg=restored_notice(result))

    @get("/{item_id:uuid}/delete")
    async def delete_page(
        self, request: Request[User, Any, Any], item_id: FromPath[uuid.UUID], trash: Trash
    ) -> Template:
        """The confirmation step of "Delete forever"."""
        return await _confirm_item(request, item_id, trash)

    @post("/{item_id:uuid}/delete")
    async def delete(
        self,
        request: Request[User, Any, Any],
        item_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        trash: Trash,
    ) -> Template | Redirect:
        if data.get("confirm") != "yes":
            return await _confirm_item(request, item_id, trash)
        await trash.purge(request.user.id, item_id)
        return see_other("/trash", msg="trash-deleted")

    @get("/empty")
    async def empty_page(self, request: Request[User, Any, Any], trash: Trash) -> Template:
        """The confirmation step of "Empty trash"."""
        return await _confirm_empty(request, trash)

    @post("/empty")
    async def empty(
        self, request: Request[User, Any, Any], data: URLEncodedBody[dict[str, str]], trash: Trash
    ) -> Template | Redirect:
        if data.get("confirm") != "yes":
            return await _confirm_empty(request, trash)
        await trash.empty(request.user.id)
        return see_other("/trash", msg="trash-emptied")
