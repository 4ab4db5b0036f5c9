from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED

from expense_tracker.constants import RATES_FILE_MAX_BYTES
from expense_tracker.db.models import User
from expense_tracker.dependencies import Rates
from expense_tracker.domain.accounts.auth import SESSION_SECURITY
from expense_tracker.domain.expenses.csv_io import ImportRejectedError
from expense_tracker.domain.rates.csv_io import read_upload
from expense_tracker.domain.rates.schemas import RateCreate, RateImportResult, RateRead, RateUpdate
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.structs import provided_fields


@dataclass
class RatesUpload:
    file: UploadFile


class RateController(Controller):
    path = "/api/rates"
    tags = ["rates"]
    security = SESSION_SECURITY

    @get("/", operation_id="listRates")
    async def list_rates(self, request: Request[User, Any, Any], rates: Rates) -> list[RateRead]:
        """Every rate of the user, by base, currency and newest first. Only rates whose base is the current default
        currency are used for conversion."""
        return [rates.to_schema(r, schema_type=RateRead) for r in await rates.list_for(request.user.id)]

    @post("/", operation_id="createRate", status_code=HTTP_201_CREATED)
    async def create_rate(self, request: Request[User, Any, Any], data: JSONBody[RateCreate], rates: Rates) -> RateRead:
        """1 ``currency`` = ``rate`` units of the default currency from ``valid_from`` on; 409 if that currency
        already has a rate from that day."""
        values = {"currency": data.currency, "rate": data.rate, "valid_from": data.valid_from}
        created = await rates.create_for(request.user.id, request.user.currency, values)
        return rates.to_schema(created, schema_type=RateRead)

    @get("/export.csv", operation_id="exportRates", media_type="text/csv")
    async def export_rates(self, request: Request[User, Any, Any], rates: Rates) -> Response[str]:
        """``currency,rate,valid_from`` for the rates into the default currency; the import takes it back unchanged."""
        body = await rates.export_csv(request.user.id, request.user.currency)
        headers = {"Content-Disposition": 'attachment; filename="exchange-rates.csv"'}
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)

    @post(
        "/import",
        operation_id="importRates",
        status_code=HTTP_201_CREATED,
        request_max_body_size=RATES_FILE_MAX_BYTES + 64 * 1024,
    )
    async def import_rates(
        self, request: Request[User, Any, Any], data: MultipartBody[RatesUpload], rates: Rates
    ) -> RateImportResult:
        """CSV ``currency,rate,valid_from`` into the default currency. All or nothing: any invalid row -> 400 listing
        the rows; a row for an existing (currency, valid_from) replaces that rate."""
        content = await read_upload(data.file)
        try:
            imported = await rates.import_csv(request.user.id, request.user.currency, content)
        except ImportRejectedError as exc:
            raise FieldValidationError(
                exc.errors, detail=f"{exc.total} problem(s) found; nothing was imported."
            ) from None
        return RateImportResult(imported=imported)

    @get("/{rate_id:uuid}", operation_id="getRate")
    async def get_rate(self, request: Request[User, Any, Any], rate_id: FromPath[uuid.UUID], rates: Rates) -> RateRead:
        return rates.to_schema(await rates.get_owned(request.user.id, rate_id), schema_type=RateRead)

    @patch("/{rate_id:uuid}", operation_id="updateRate")
    async def update_rate(
        self, request: Request[User, Any, Any], rate_id: FromPath[uuid.UUID], data: JSONBody[RateUpdate], rates: Rates
    ) -> RateRead:
        updated = await rates.update_for(request.user.id, rate_id, provided_fields(data))
        return rates.to_schema(updated, schema_type=RateRead)

    @delete("/{rate_id:uuid}", operation_id="deleteRate")
    async def delete_rate(self, request: Request[User, Any, Any], rate_id: FromPath[uuid.UUID], rates: Rates) -> None:
        await rates.delete_for(request.user.id, rate_id)
