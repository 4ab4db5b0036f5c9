from __future__ import annotations

from typing import Any

import msgspec


def provided_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually sent (``UNSET`` ones are left alone; an explicit ``null`` is kept)."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
