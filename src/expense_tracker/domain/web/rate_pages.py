"""The exchange rates page: list, add, delete and import from CSV, on the same service as ``/api/rates``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import RATES_COLUMNS, RATES_FILE_MAX_BYTES
from expense_tracker.db.models import User
from expense_tracker.dependencies import Rates
from expense_tracker.domain.expenses.csv_io import ImportRejectedError
from expense_tracker.domain.rates.csv_io import read_upload
from expense_tracker.domain.rates.schemas import RateCreate
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import local_amount, parse_form
from expense_tracker.lib.currencies import active_currency_list
from expense_tracker.lib.problems import FieldValidationError


@dataclass
class RatesUploadForm:
    file: UploadFile | None = None


class RatePages(Controller):
    path = "/rates"
    include_in_schema = False
    opt = HTML_OPT

    async def _page(
        self, request: Request[User, Any, Any], rates: Rates, status_code: int = 200, **context: Any
    ) -> Template:
        context.setdefault("form", {"currency": "", "rate": "", "valid_from": ""})
        context.setdefault("errors", {})
        context.setdefault("import_errors", [])
        context.setdefault("imported", None)
        return render(
            request,
            "rates.html",
            status_code=status_code,
            rates=await rates.list_for(request.user.id),
            # Suggestions only (a rate for a withdrawn currency of old expenses can still be typed): the active codes.
            currencies=[code for code in active_currency_list() if code != request.user.currency],
            columns=RATES_COLUMNS,
            **context,
        )

    @get("/")
    async def list_page(self, request: Request[User, Any, Any], rates: Rates) -> Template:
        return await self._page(request, rates)

    @post("/")
    async def create(
        self, request: Request[User, Any, Any], data: URLEncodedBody[dict[str, str]], rates: Rates
    ) -> Template | Redirect:
        # Typed in the user's locale like every amount (``1,0850`` in de_DE); no currency: a rate has 8 decimals.
        values, errors = local_amount(data, "rate", None)
        body, errors = (None, errors) if errors else parse_form(RateCreate, values)
        if body is not None:
            values = {"currency": body.currency, "rate": body.rate, "valid_from": body.valid_from}
            try:
                await rates.create_for(request.user.id, request.user.currency, values)
                return see_other("/rates", msg="rate-added")
            except FieldValidationError as exc:
                errors = exc.by_field()
            except HTTPException as exc:
                errors = {"valid_from": str(exc.detail)}
        return await self._page(request, rates, 400, form=data, errors=errors)

    @post("/{rate_id:uuid}/delete")
    async def delete(self, request: Request[User, Any, Any], rate_id: FromPath[uuid.UUID], rates: Rates) -> Redirect:
        await rates.delete_for(request.user.id, rate_id)
        return see_other("/rates", msg="rate-deleted")

    @post("/import", request_max_body_size=RATES_FILE_MAX_BYTES + 64 * 1024)
    async def import_upload(
        self, request: Request[User, Any, Any], data: MultipartBody[RatesUploadForm], rates: Rates
    ) -> Template:
        if data.file is None or not data.file.filename:
            problems = [{"row": "", "field": "file", "message": "Choose a CSV file to import."}]
            return await self._page(request, rates, 400, import_errors=problems)
        try:
            imported = await rates.import_csv(request.user.id, request.user.currency, await read_upload(data.file))
        except HTTPException as exc:
            problems = [{"row": "", "field": "file", "message": str(exc.detail)}]
            return await self._page(request, rates, exc.status_code, import_errors=problems)
        except ImportRejectedError as exc:
            return await self._page(request, rates, 400, import_errors=exc.errors)
        return await self._page(request, rates, imported=imported)
