from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from expense_tracker.db.models import User
from expense_tracker.dependencies import Splits
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.splits.schemas import SplitCreate, SplitRead, SplitUpdate
from expense_tracker.domain.trash.responses import UNDO_RESPONSE_HEADERS, undo_headers
from expense_tracker.lib.idempotency import IdempotencyKeyHeader, idempotent, json_fingerprint


class SplitController(Controller):
    """Split payments: one payment spread over categories, each part an expense (with this split's ``split_id``)."""

    path = "/api/splits"
    tags = ["splits"]
    security = SESSION_SECURITY

    @post("/", operation_id="createSplit", status_code=HTTP_201_CREATED)
    async def create_split(
        self,
        request: Request[User, Any, Any],
        data: JSONBody[SplitCreate],
        splits: Splits,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[SplitRead]:
        """400 (field ``parts``, naming the difference) unless the parts add up to ``amount`` exactly."""

        async def create() -> SplitRead:
            return await splits.create_split(request.user, data, source="api")

        async def request_fingerprint() -> str:
            return json_fingerprint(request.method, request.url.path, await request.body())

        session = splits.repository.session
        return await idempotent(session, request.user.id, idempotency_key, request_fingerprint, SplitRead, create)

    @get("/{split_id:uuid}", operation_id="getSplit")
    async def get_split(
        self, request: Request[User, Any, Any], split_id: FromPath[uuid.UUID], splits: Splits
    ) -> SplitRead:
        return await splits.read_split(request.user.id, split_id)

    @put("/{split_id:uuid}", operation_id="replaceSplit")
    async def replace_split(
        self,
        request: Request[User, Any, Any],
        split_id: FromPath[uuid.UUID],
        data: JSONBody[SplitUpdate],
        splits: Splits,
    ) -> SplitRead:
        """The whole split again: parts sent with their ``id`` keep it, parts left out are deleted."""
        return await splits.replace_split(request.user, split_id, data, source="api")

    @delete("/{split_id:uuid}", operation_id="deleteSplit", response_headers=UNDO_RESPONSE_HEADERS)
    async def delete_split(
        self, request: Request[User, Any, Any], split_id: FromPath[uuid.UUID], splits: Splits
    ) -> Response[None]:
        """Moves the payment, all its parts, to the trash as one item (``X-Trash-Item``)."""
        item = await splits.delete_split(request.user.id, split_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=undo_headers(item.id))
