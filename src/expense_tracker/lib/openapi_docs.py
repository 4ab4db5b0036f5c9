"""Completes the generated OpenAPI document with what the app really answers.

Litestar documents a 400 with its own ``application/json`` body; every error here is RFC 9457
``application/problem+json`` (``lib/problems.py``), and the other statuses the app gives (401, 403, 404, 409, 413, 415)
are not documented at all (nor 422 for a reused ``Idempotency-Key``, 429 for rate limits, 503 while the
database is unreachable). Links between operations let clients (and Schemathesis' stateful tests) follow an id from
a create response to the operations that take it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import Link, OpenAPI, OpenAPIMediaType, OpenAPIResponse, Operation, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

from expense_tracker.lib.problems import PROBLEM_JSON

PROBLEM_SCHEMA = "Problem"
_UNSAFE = {"post", "put", "patch", "delete"}
# Operations whose writes can collide with another request: duplicate names, categories in use, concurrent deletes.
_CONFLICTS = {"createExpense", "updateExpense", "createCategory", "updateCategory", "deleteCategory", "importExpenses"}
_CONFLICTS |= {"commitStatement", "createImportProfile", "updateImportProfile"}
_CONFLICTS |= {"createTag", "renameTag"}  # tag names are unique per user, ignoring case (issue 15)
_EXTRA: dict[str, tuple[int, ...]] = {
    "devLogin": (403, 404),  # deactivated account; dev login disabled (production)
    "oauthLogin": (404, 503),  # unknown or unconfigured provider; provider discovery down
    "oauthCallback": (403, 404, 502, 503),
    "createExpense": (422,),  # an Idempotency-Key reused with another body
    "importExpenses": (422,),
    # Bank import: an unknown, expired or foreign upload (or saved profile) in the body; rows with problems.
    "uploadStatement": (404,),
    "previewStatement": (404,),
    "commitStatement": (404, 422),
}
# Rate limits (lib/rate_limit.py): sign-in per client address, every other write per user.
_SIGN_IN = {"devLogin", "oauthLogin", "oauthCallback"}
_LINKS: dict[str, dict[str, tuple[str, str, str]]] = {
    # operation -> link name -> (target operation, parameter, where the value comes from)
    "createExpense": {
        "GetExpense": ("getExpense", "expense_id", "$response.body#/id"),
        "UpdateExpense": ("updateExpense", "expense_id", "$response.body#/id"),
        "DeleteExpense": ("deleteExpense", "expense_id", "$response.body#/id"),
    },
    "createCategory": {
        "GetCategory": ("getCategory", "category_id", "$response.body#/id"),
        "UpdateCategory": ("updateCategory", "category_id", "$response.body#/id"),
        "DeleteCategory": ("deleteCategory", "category_id", "$response.body#/id"),
        "ListExpensesInCategory": ("listExpenses", "category_id", "$response.body#/id"),
    },
    "createTag": {
        "GetTag": ("getTag", "tag_id", "$response.body#/id"),
        "RenameTag": ("renameTag", "tag_id", "$response.body#/id"),
        "MergeTag": ("mergeTag", "tag_id", "$response.body#/id"),
        "DeleteTag": ("deleteTag", "tag_id", "$response.body#/id"),
    },
}


def _problem_schema() -> Schema:
    error = Schema(
        type=OpenAPIType.OBJECT,
        required=["field", "message"],
        properties={
            "field": Schema(type=OpenAPIType.STRING),
            "message": Schema(type=OpenAPIType.STRING),
            "row": Schema(type=OpenAPIType.INTEGER, description="CSV import: the row, the header being row 1."),
        },
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        description="RFC 9457 problem details.",
        required=["type", "title", "status", "detail", "instance"],
        properties={
            "type": Schema(type=OpenAPIType.STRING),
            "title": Schema(type=OpenAPIType.STRING),
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": Schema(type=OpenAPIType.STRING),
            "instance": Schema(type=OpenAPIType.STRING),
            "errors": Schema(type=OpenAPIType.ARRAY, items=error),
        },
    )


def _problem_response(status: int) -> OpenAPIResponse:
    reference = Reference(ref=f"#/components/schemas/{PROBLEM_SCHEMA}")
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase, content={PROBLEM_JSON: OpenAPIMediaType(schema=reference)}
    )


def _error_statuses(method: str, operation: Operation) -> set[int]:
    statuses = {400}
    secured = bool(operation.security) and operation.security != [{}]
    if secured:
        statuses.add(401)
        if method in _UNSAFE:
            statuses.add(403)  # cookie sessions without the CSRF token
    if any(getattr(p, "param_in", None) == "path" for p in operation.parameters or []):
        statuses.add(404)
    if operation.request_body is not None:
        statuses.add(413)
        content = getattr(operation.request_body, "content", None) or {}
        if any(media.endswith("json") for media in content):
            statuses.add(415)
    if operation.operation_id in _CONFLICTS or (method == "delete" and secured):
        statuses.add(409)
    if method in _UNSAFE or operation.operation_id in _SIGN_IN:
        statuses.add(429)
    if secured or operation.operation_id in _SIGN_IN:
        statuses.add(503)  # the database (session lookup, the operation itself) is unreachable
    statuses.update(_EXTRA.get(operation.operation_id or "", ()))
    return statuses


def _links(operation_id: str) -> dict[str, Link | Reference]:
    return {
        name: Link(operation_id=target, parameters={parameter: source})
        for name, (target, parameter, source) in _LINKS.get(operation_id, {}).items()
    }


def document_api(schema: OpenAPI) -> None:
    """Add the problem responses, links and empty 204 bodies to ``schema`` in place (idempotent)."""
    components = schema.components
    components.schemas = {**(components.schemas or {}), PROBLEM_SCHEMA: _problem_schema()}
    for path_item in (schema.paths or {}).values():
        for method in ("get", "put", "post", "patch", "delete"):
            operation: Operation | None = getattr(path_item, method, None)
            if operation is None:
                continue
            responses: dict[str, Any] = operation.responses or {}
            for error in _error_statuses(method, operation):
                responses[str(error)] = _problem_response(error)
            for status, response in responses.items():
                if status == "204" and isinstance(response, OpenAPIResponse):
                    response.content = None  # nothing is sent with a 204
                if status in {"200", "201"} and isinstance(response, OpenAPIResponse):
                    response.links = _links(operation.operation_id or "") or response.links
            operation.responses = responses


def document_app(app: Litestar) -> None:
    """Startup hook: complete the app's (cached) schema before the first request serves it."""
    document_api(app.openapi_schema)
