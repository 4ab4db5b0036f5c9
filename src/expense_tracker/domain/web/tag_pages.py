"""The tags page: every tag with its count; rename, merge into another, delete, add. Plain forms (no JavaScript)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.db.models import User
from expense_tracker.dependencies import Tags
from expense_tracker.domain.tags.schemas import TagCreate
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import parse_form
from expense_tracker.lib.problems import FieldValidationError


def _problem(exc: HTTPException) -> dict[str, str]:
    """A service refusal as the form's inline errors: fields named by a 400, else the 409's sentence on ``name``."""
    if isinstance(exc, FieldValidationError):
        return exc.by_field()
    return {"name": str(exc.detail)}


class TagPages(Controller):
    path = "/tags"
    include_in_schema = False
    opt = HTML_OPT

    async def _page(
        self, request: Request[User, Any, Any], tags: Tags, status_code: int = 200, **context: Any
    ) -> Template:
        """``error_for``: which form the ``errors`` belong to ("new", or "<tag id>:rename" / ":merge")."""
        context.setdefault("errors", {})
        context.setdefault("error_for", None)
        context.setdefault("new_form", {"name": ""})
        context.setdefault("edit_form", {})
        return render(
            request, "tags.html", status_code=status_code, tags=await tags.list_for(request.user.id), **context
        )

    @get("/")
    async def list_page(self, request: Request[User, Any, Any], tags: Tags) -> Template:
        return await self._page(request, tags)

    @post("/")
    async def create(
        self, request: Request[User, Any, Any], data: URLEncodedBody[dict[str, str]], tags: Tags
    ) -> Template | Redirect:
        body, errors = parse_form(TagCreate, data)
        if body is not None:
            try:
                await tags.create_for(request.user.id, body.name)
            except HTTPException as exc:
                errors = _problem(exc)
            else:
                return see_other("/tags", msg="tag-added")
        return await self._page(request, tags, 400, new_form=data, errors=errors, error_for="new")

    @post("/{tag_id:uuid}")
    async def rename(
        self,
        request: Request[User, Any, Any],
        tag_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        tags: Tags,
    ) -> Template | Redirect:
        body, errors = parse_form(TagCreate, data)
        if body is not None:
            try:
                await tags.rename(request.user.id, tag_id, body.name)
            except HTTPException as exc:
                errors = _problem(exc)
            else:
                return see_other("/tags", msg="tag-renamed")
        return await self._page(request, tags, 400, edit_form=data, errors=errors, error_for=f"{tag_id}:rename")

    @post("/{tag_id:uuid}/merge")
    async def merge(
        self,
        request: Request[User, Any, Any],
        tag_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        tags: Tags,
    ) -> Template | Redirect:
        errors: dict[str, str]
        try:
            target = uuid.UUID(data.get("into") or "")
        except ValueError:
            errors = {"into": "Choose the tag to merge into."}
        else:
            try:
                await tags.merge(request.user.id, tag_id, target)
            except HTTPException as exc:
                errors = _problem(exc)
            else:
                return see_other("/tags", msg="tag-merged")
        return await self._page(request, tags, 400, errors=errors, error_for=f"{tag_id}:merge")

    @post("/{tag_id:uuid}/delete")
    async def delete(self, request: Request[User, Any, Any], tag_id: FromPath[uuid.UUID], tags: Tags) -> Redirect:
        await tags.delete_for(request.user.id, tag_id)
        return see_other("/tags", msg="tag-deleted")
