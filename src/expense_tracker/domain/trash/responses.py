"""What deletes and edits of other domains add to their API responses: where the undo is."""

from __future__ import annotations

import uuid

from litestar.datastructures import ResponseHeader

TRASH_PATH = "/api/trash"


def undo_headers(item_id: uuid.UUID) -> dict[str, str]:
    """What a delete or an edit answers besides its usual response: where its trash item is, to restore or undo it."""
    return {"Link": f'<{TRASH_PATH}/{item_id}/restore>; rel="undo"', "X-Trash-Item": str(item_id)}


UNDO_RESPONSE_HEADERS = [
    ResponseHeader(
        name="X-Trash-Item",
        description="Id of the trash item this change created: `POST /api/trash/{id}/restore` undoes it.",
        documentation_only=True,
    ),
    ResponseHeader(
        name="Link",
        description='`</api/trash/{id}/restore>; rel="undo"`: the same, as a link.',
        documentation_only=True,
    ),
]
