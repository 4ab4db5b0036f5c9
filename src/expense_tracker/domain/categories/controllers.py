from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from expense_tracker.db.models import User
from expense_tracker.dependencies import Categories, Trash
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.categories.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from expense_tracker.domain.categories.services import BUDGET_FIELDS
from expense_tracker.domain.trash.responses import UNDO_RESPONSE_HEADERS, undo_headers
from expense_tracker.domain.trash.services import CATEGORY_TABLE
from expense_tracker.lib.structs import provided_fields
from expense_tracker.lib.timezones import today_in


class CategoryController(Controller):
    path = "/api/categories"
    tags = ["categories"]
    security = SESSION_SECURITY

    @get("/", operation_id="listCategories")
    async def list_categories(self, request: Request[User, Any, Any], categories: Categories) -> list[CategoryRead]:
        return [categories.to_schema(c, schema_type=CategoryRead) for c in await categories.list_for(request.user.id)]

    @post("/", operation_id="createCategory")
    async def create_category(
        self, request: Request[User, Any, Any], data: JSONBody[CategoryCreate], categories: Categories
    ) -> CategoryRead:
        values = {
            "name": data.name,
            "color": data.color,
            "monthly_budget": data.monthly_budget,
            "budget_currency": data.budget_currency,
            "budget_from": data.budget_from,
            "rollover": data.rollover,
        }
        today = today_in(request.user.timezone)
        created = await categories.create_for(request.user.id, values, request.user.currency, today)
        return categories.to_schema(created, schema_type=CategoryRead)

    @get("/{category_id:uuid}", operation_id="getCategory")
    async def get_category(
        self, request: Request[User, Any, Any], category_id: FromPath[uuid.UUID], categories: Categories
    ) -> CategoryRead:
        return categories.to_schema(await categories.get_owned(request.user.id, category_id), schema_type=CategoryRead)

    @patch("/{category_id:uuid}", operation_id="updateCategory", response_headers=UNDO_RESPONSE_HEADERS)
    async def update_category(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        data: JSONBody[CategoryUpdate],
        categories: Categories,
        trash: Trash,
    ) -> Response[CategoryRead]:
        user_id = request.user.id
        today = today_in(request.user.timezone)
        # The previous values are kept for one undo (``X-Trash-Item``); a 4xx rolls the snapshot back with the edit.
        fields = provided_fields(data)
        # A budget change writes the budget history: the undo puts that back too.
        children = ("budget",) if fields.keys() & BUDGET_FIELDS else ()
        async with trash.editing(user_id, CATEGORY_TABLE, category_id, children=children) as undo:
            category = await categories.update_for(user_id, category_id, fields, request.user.currency, today)
        return Response(categories.to_schema(category, schema_type=CategoryRead), headers=undo_headers(undo.id))

    @delete("/{category_id:uuid}", operation_id="deleteCategory", response_headers=UNDO_RESPONSE_HEADERS)
    async def delete_category(
        self,
        request: Request[User, Any, Any],
        category_id: FromPath[uuid.UUID],
        trash: Trash,
        reassign_to: Annotated[
            uuid.UUID | None, QueryParameter(description="Move the category's expenses here.")
        ] = None,
    ) -> Response[None]:
        """Moves it to the trash (``X-Trash-Item``): restoring it moves its expenses back from ``reassign_to``."""
        item = await trash.trash_category(request.user.id, category_id, reassign_to)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=undo_headers(item.id))
