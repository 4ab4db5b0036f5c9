"""The bank-import API: upload a statement, preview it with corrected settings, commit it; saved profiles (CRUD)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES
from expense_tracker.db.models import ImportProfile, User
from expense_tracker.dependencies import BankImports, ImportProfiles
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.expenses.services import ImportTooLargeError
from expense_tracker.domain.imports.schemas import (
    CommitRequest,
    CommitResult,
    PreviewRequest,
    PreviewResult,
    ProfileCreate,
    ProfileRead,
    ProfileUpdate,
    UploadRead,
)
from expense_tracker.domain.imports.services import UploadInfo, profile_settings
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.structs import provided_fields

TOO_LARGE = f"The file is larger than {IMPORT_FILE_MAX_BYTES} bytes."


@dataclass
class StatementUpload:
    file: UploadFile
    profile_id: uuid.UUID | None = None
    """Apply this saved profile's format and columns instead of the detected ones."""


def upload_read(info: UploadInfo) -> UploadRead:
    upload = info.upload
    return UploadRead(
        upload_id=upload.id,
        filename=upload.filename,
        size=upload.size,
        expires_at=upload.expires_at,
        dialect=info.dialect,
        mapping=info.mapping,
        header=info.header,
        first_lines=info.first_lines,
        profile_id=info.profile_id,
        mapping_errors=info.mapping_errors,
    )


def profile_read(profile: ImportProfile) -> ProfileRead:
    dialect, mapping = profile_settings(profile)
    return ProfileRead(
        id=profile.id,
        name=profile.name,
        dialect=dialect,
        mapping=mapping,
        last_used_at=profile.last_used_at,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


class BankImportController(Controller):
    path = "/api/imports"
    tags = ["bank import"]
    security = SESSION_SECURITY

    @post(
        "/uploads",
        operation_id="uploadStatement",
        status_code=HTTP_201_CREATED,
        request_max_body_size=IMPORT_FILE_MAX_BYTES + 64 * 1024,
    )
    async def upload(
        self, request: Request[User, Any, Any], data: MultipartBody[StatementUpload], bank_imports: BankImports
    ) -> UploadRead:
        """Keep a bank statement (CSV) for the next steps; answer its detected format and guessed columns.

        The upload expires after two hours. With ``profile_id`` the saved profile's settings are applied instead
        (when the file still fits them)."""
        file: Any = data.file.file
        try:
            info = await bank_imports.store_upload(request.user, data.file.filename or "", file, data.profile_id)
        except ImportTooLargeError:
            raise HTTPException(status_code=413, detail=TOO_LARGE) from None
        return upload_read(info)

    @post("/preview", operation_id="previewStatement", status_code=200)
    async def preview(
        self, request: Request[User, Any, Any], data: JSONBody[PreviewRequest], bank_imports: BankImports
    ) -> PreviewResult:
        """Every row's status (import, duplicate, skipped, problem), counts for the whole file; nothing is stored."""
        analysis = await bank_imports.analyse(request.user, data)
        return PreviewResult(
            upload_id=analysis.upload.id,
            filename=analysis.upload.filename,
            counts=analysis.counts,
            totals=analysis.totals,
            rows=analysis.statuses[: data.limit],
            rejected_lines=analysis.rejected(),
        )

    @post("/commit", operation_id="commitStatement", status_code=HTTP_201_CREATED)
    async def commit(
        self, request: Request[User, Any, Any], data: JSONBody[CommitRequest], bank_imports: BankImports
    ) -> CommitResult:
        """Import the rows the preview marks "import", all or nothing: a row with problems is a 422 listing them.

        Rows already imported (the same file again, an overlapping statement, a double submit) are never stored
        twice."""
        return await bank_imports.import_statement(request.user, data, data.save_profile_as, data.profile_id)

    @get("/profiles", operation_id="listImportProfiles")
    async def list_profiles(
        self, request: Request[User, Any, Any], import_profiles: ImportProfiles
    ) -> Sequence[ProfileRead]:
        """Saved per-bank settings, most recently used first."""
        return [profile_read(p) for p in await import_profiles.list_for(request.user.id)]

    @post("/profiles", operation_id="createImportProfile", status_code=HTTP_201_CREATED)
    async def create_profile(
        self, request: Request[User, Any, Any], data: JSONBody[ProfileCreate], import_profiles: ImportProfiles
    ) -> ProfileRead:
        profile = await import_profiles.create_for(request.user.id, data.name, data.dialect, data.mapping)
        return profile_read(profile)

    @get("/profiles/{profile_id:uuid}", operation_id="getImportProfile")
    async def get_profile(
        self, request: Request[User, Any, Any], profile_id: FromPath[uuid.UUID], import_profiles: ImportProfiles
    ) -> ProfileRead:
        return profile_read(await import_profiles.get_owned(request.user.id, profile_id))

    @patch("/profiles/{profile_id:uuid}", operation_id="updateImportProfile")
    async def update_profile(
        self,
        request: Request[User, Any, Any],
        profile_id: FromPath[uuid.UUID],
        data: JSONBody[ProfileUpdate],
        import_profiles: ImportProfiles,
    ) -> ProfileRead:
        values = provided_fields(data)
        if not values:
            raise FieldValidationError([{"field": "body", "message": "change at least one field"}])
        return profile_read(await import_profiles.update_for(request.user.id, profile_id, values))

    @delete("/profiles/{profile_id:uuid}", operation_id="deleteImportProfile")
    async def delete_profile(
        self, request: Request[User, Any, Any], profile_id: FromPath[uuid.UUID], import_profiles: ImportProfiles
    ) -> None:
        await import_profiles.delete_for(request.user.id, profile_id)
