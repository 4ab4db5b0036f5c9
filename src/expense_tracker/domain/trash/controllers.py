from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath

from expense_tracker.db.models import User
from expense_tracker.dependencies import Trash
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.trash.responses import TRASH_PATH
from expense_tracker.domain.trash.schemas import RestoreResult, TrashEmptied, TrashItemRead


class TrashController(Controller):
    path = TRASH_PATH
    tags = ["trash"]
    security = SESSION_SECURITY

    @get("/", operation_id="listTrash")
    async def list_trash(self, request: Request[User, Any, Any], trash: Trash) -> list[TrashItemRead]:
        """Deleted expenses, categories and schedules, newest first; each is purged 30 days after its delete."""
        return [trash.to_read(item) for item in await trash.list_for(request.user.id)]

    @get("/{item_id:uuid}", operation_id="getTrashItem")
    async def get_item(
        self, request: Request[User, Any, Any], item_id: FromPath[uuid.UUID], trash: Trash
    ) -> TrashItemRead:
        """One item, an edit's undo snapshot included."""
        return trash.to_read(await trash.get_owned(request.user.id, item_id))

    @post("/{item_id:uuid}/restore", operation_id="restoreTrashItem", status_code=200)
    async def restore(
        self, request: Request[User, Any, Any], item_id: FromPath[uuid.UUID], trash: Trash
    ) -> RestoreResult:
        """Put it back exactly (same ids, dates, links), or undo an edit; once: the item is gone afterwards (404).

        409 when it clashes with something created since, or (an edit) when the row was changed again.
        """
        return await trash.restore(request.user.id, item_id)

    @delete("/{item_id:uuid}", operation_id="purgeTrashItem")
    async def purge(self, request: Request[User, Any, Any], item_id: FromPath[uuid.UUID], trash: Trash) -> None:
        """Delete it for good."""
        await trash.purge(request.user.id, item_id)

    @delete("/", operation_id="emptyTrash", status_code=200)
    async def empty(self, request: Request[User, Any, Any], trash: Trash) -> TrashEmptied:
        """Delete everything in the trash for good."""
        return TrashEmptied(purged=await trash.empty(request.user.id))
