"""Row ownership: user-owned rows are looked up with their owner, so a foreign id behaves like a missing one."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

OwnedT = TypeVar("OwnedT", bound=UUIDv7AuditBase)


class OwnedRowService(SQLAlchemyAsyncRepositoryService[OwnedT]):
    """Service base for models with ``id`` and ``user_id`` columns."""

    async def get_owned(self, user_id: uuid.UUID, item_id: uuid.UUID) -> OwnedT:
        model: Any = self.repository.model_type
        item: OwnedT | None = await self.repository.get_one_or_none(model.id == item_id, model.user_id == user_id)
        if item is None:
            raise NotFoundError(f"{model.__tablename__} {item_id}")
        return item

    async def apply(self, item: OwnedT, values: dict[str, Any]) -> OwnedT:
        """Change ``item`` (loaded by :meth:`get_owned` on this session) and flush: one UPDATE of the changed columns.

        Not ``repository.update``: that merges the object (a second SELECT) and refreshes it (a third), although it is
        already the session's own, current row.
        """
        for key, value in values.items():
            setattr(item, key, value)
        await self.repository.session.flush()
        return item
