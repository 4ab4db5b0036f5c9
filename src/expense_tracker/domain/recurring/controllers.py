from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from expense_tracker.constants import RECURRING_UPCOMING_DAYS_MAX
from expense_tracker.db.models import User
from expense_tracker.dependencies import Recurring
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.recurring.schemas import ScheduleCreate, ScheduleRead, ScheduleUpdate, UpcomingOccurrence
from expense_tracker.domain.recurring.services import to_read
from expense_tracker.domain.trash.responses import UNDO_RESPONSE_HEADERS, undo_headers
from expense_tracker.lib.structs import provided_fields


class RecurringController(Controller):
    path = "/api/recurring"
    tags = ["recurring"]
    security = SESSION_SECURITY

    @get("/", operation_id="listRecurring")
    async def list_schedules(self, request: Request[User, Any, Any], recurring: Recurring) -> list[ScheduleRead]:
        return [to_read(s) for s in await recurring.list_for(request.user.id)]

    @post("/", operation_id="createRecurring")
    async def create_schedule(
        self, request: Request[User, Any, Any], data: JSONBody[ScheduleCreate], recurring: Recurring
    ) -> ScheduleRead:
        return to_read(await recurring.create_for(request.user, provided_fields(data)))

    @get("/upcoming", operation_id="listUpcomingRecurring")
    async def upcoming(
        self,
        request: Request[User, Any, Any],
        recurring: Recurring,
        days: Annotated[
            int,
            QueryParameter(
                ge=1, le=RECURRING_UPCOMING_DAYS_MAX, description="From today to this many days ahead (your time zone)."
            ),
        ] = 30,
    ) -> list[UpcomingOccurrence]:
        return await recurring.upcoming_for(request.user, days)

    @get("/{schedule_id:uuid}", operation_id="getRecurring")
    async def get_schedule(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> ScheduleRead:
        return to_read(await recurring.get_owned(request.user.id, schedule_id))

    @patch("/{schedule_id:uuid}", operation_id="updateRecurring", description="Applies to future occurrences only.")
    async def update_schedule(
        self,
        request: Request[User, Any, Any],
        schedule_id: FromPath[uuid.UUID],
        data: JSONBody[ScheduleUpdate],
        recurring: Recurring,
    ) -> ScheduleRead:
        return to_read(await recurring.update_for(request.user, schedule_id, provided_fields(data)))

    @post("/{schedule_id:uuid}/pause", operation_id="pauseRecurring", status_code=200)
    async def pause(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> ScheduleRead:
        return to_read(await recurring.set_paused(request.user, schedule_id, True))

    @post(
        "/{schedule_id:uuid}/resume",
        operation_id="resumeRecurring",
        status_code=200,
        description="Dates missed while paused are not created.",
    )
    async def resume(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> ScheduleRead:
        return to_read(await recurring.set_paused(request.user, schedule_id, False))

    @delete(
        "/{schedule_id:uuid}",
        operation_id="deleteRecurring",
        description="Moves it to the trash (`X-Trash-Item`); the expenses it created stay.",
        response_headers=UNDO_RESPONSE_HEADERS,
    )
    async def delete_schedule(
        self, request: Request[User, Any, Any], schedule_id: FromPath[uuid.UUID], recurring: Recurring
    ) -> Response[None]:
        item = await recurring.delete_for(request.user.id, schedule_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=undo_headers(item.id))
