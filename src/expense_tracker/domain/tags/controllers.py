from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from expense_tracker.db.models import User
from expense_tracker.dependencies import Tags
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.tags.schemas import TagCreate, TagMerge, TagRead, TagUpdate


class TagController(Controller):
    path = "/api/tags"
    tags = ["tags"]
    security = SESSION_SECURITY

    @get("/", operation_id="listTags")
    async def list_tags(self, request: Request[User, Any, Any], tags: Tags) -> list[TagRead]:
        """Your tags by name (ignoring case), with how many expenses carry each."""
        return await tags.list_for(request.user.id)

    @post("/", operation_id="createTag", status_code=HTTP_201_CREATED)
    async def create_tag(self, request: Request[User, Any, Any], data: JSONBody[TagCreate], tags: Tags) -> TagRead:
        """A new tag (expenses also create tags on the fly); a name you already have, ignoring case, is a 409."""
        created = await tags.create_for(request.user.id, data.name)
        return TagRead(id=created.id, name=created.name, expense_count=0, created_at=created.created_at)

    @get("/{tag_id:uuid}", operation_id="getTag")
    async def get_tag(self, request: Request[User, Any, Any], tag_id: FromPath[uuid.UUID], tags: Tags) -> TagRead:
        return await tags.read(request.user.id, tag_id)

    @patch("/{tag_id:uuid}", operation_id="renameTag")
    async def rename_tag(
        self, request: Request[User, Any, Any], tag_id: FromPath[uuid.UUID], data: JSONBody[TagUpdate], tags: Tags
    ) -> TagRead:
        """Rename; the name of another of your tags (ignoring case) is a 409: merge into it instead."""
        await tags.rename(request.user.id, tag_id, data.name)
        return await tags.read(request.user.id, tag_id)

    @post("/{tag_id:uuid}/merge", operation_id="mergeTag", status_code=200)
    async def merge_tag(
        self, request: Request[User, Any, Any], tag_id: FromPath[uuid.UUID], data: JSONBody[TagMerge], tags: Tags
    ) -> TagRead:
        """Merge this tag into ``into``: its expenses get ``into`` (none twice) and this tag is deleted. Returns
        ``into``."""
        target = await tags.merge(request.user.id, tag_id, data.into)
        return await tags.read(request.user.id, target.id)

    @delete("/{tag_id:uuid}", operation_id="deleteTag")
    async def delete_tag(self, request: Request[User, Any, Any], tag_id: FromPath[uuid.UUID], tags: Tags) -> None:
        """Delete the tag; its expenses stay, without it."""
        await tags.delete_for(request.user.id, tag_id)
