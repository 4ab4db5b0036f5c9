"""The bank-statement import wizard: five server-rendered steps over the same services as the API.

1. upload (``/import/bank``), 2. file format (``/{id}/format``), 3. columns (``/{id}/columns``), 4. preview
(``/{id}/preview``), 5. import -> result page (``/{id}/done``). Each step is a plain form posting to its own URL, which
answers 303 to the next step's page: no JavaScript needed. What the person chose so far travels in the query string
(and as hidden fields in the forms), so the file stays the only server-side state (``import_upload``), any replica can
serve any step, and the back button works.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import msgspec
from advanced_alchemy.exceptions import NotFoundError
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES, IMPORT_PREVIEW_ROWS
from expense_tracker.db.models import ImportUpload, User
from expense_tracker.dependencies import BankImports, ImportProfiles
from expense_tracker.domain.expenses.services import ImportTooLargeError
from expense_tracker.domain.imports import statement
from expense_tracker.domain.imports.schemas import ImportSettings, clean_profile_name
from expense_tracker.domain.imports.services import (
    DIALECT_FIELDS,
    ImportRowsError,
    first_lines,
)
from expense_tracker.domain.imports.statement import Dialect, Mapping, StatementError
from expense_tracker.domain.web.common import HTML_OPT, render, see_other, with_query
from expense_tracker.lib.problems import FieldValidationError

BASE = "/import/bank"
NO_THOUSANDS = "none"
"""How "no thousands separator" travels in a query string (an empty value is dropped from it)."""
COLUMN_FIELDS = ("date", "title_1", "title_2", "amount", "debit", "credit", "currency_column", "category", "notes")
MAPPING_KEYS = (*COLUMN_FIELDS, "currency", "sign", "skip_money_in", "skip_possible")
STEPS = (("upload", "Upload"), ("format", "File format"), ("columns", "Columns"), ("preview", "Preview"))
SAMPLE_ROWS = 3


@dataclass
class StatementForm:
    file: UploadFile | None = None
    profile_id: str = ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def dialect_query(dialect: Dialect) -> dict[str, str]:
    values = {f: str(getattr(dialect, f)) for f in DIALECT_FIELDS}
    values["thousands"] = values["thousands"] or NO_THOUSANDS
    return values


def mapping_query(mapping: Mapping, skip_possible: bool = False) -> dict[str, str]:
    titles = [*mapping.title, "", ""]
    return {
        "date": mapping.date or "",
        "title_1": titles[0],
        "title_2": titles[1],
        "amount": mapping.amount or "",
        "debit": mapping.debit or "",
        "credit": mapping.credit or "",
        "currency_column": mapping.currency_column or "",
        "category": mapping.category or "",
        "notes": mapping.notes or "",
        "currency": mapping.currency or "",
        "sign": mapping.sign,
        "skip_money_in": _flag(mapping.skip_money_in),
        "skip_possible": _flag(skip_possible),
    }


def dialect_from(values: dict[str, str]) -> Dialect:
    """The dialect the form or query carries; raises ``StatementError`` naming the field."""
    given = {f: values[f] for f in DIALECT_FIELDS if f in values}
    if given.get("thousands") == NO_THOUSANDS:
        given["thousands"] = ""
    return Dialect().with_overrides(given)


def mapping_from(values: dict[str, str]) -> Mapping:
    given: dict[str, str | list[str]] = {
        k: values.get(k, "") for k in ("date", "amount", "debit", "credit", "currency_column", "category", "notes")
    }
    given["title"] = [values.get("title_1", ""), values.get("title_2", "")]
    given["currency"] = values.get("currency", "")
    given["sign"] = values.get("sign", "negative_out")
    given["skip_money_in"] = values.get("skip_money_in", "true")
    return Mapping().with_overrides(given)


def _error(exc: StatementError) -> dict[str, str]:
    return {exc.field: exc.message[:1].upper() + exc.message[1:]}


class BankImportPages(Controller):
    path = BASE
    include_in_schema = False
    opt = HTML_OPT

    async def _upload(
        self, request: Request[User, Any, Any], bank_imports: BankImports, upload_id: uuid.UUID
    ) -> ImportUpload:
        return await bank_imports.get_upload(request.user.id, upload_id)

    @get("/")
    async def upload_page(self, request: Request[User, Any, Any], import_profiles: ImportProfiles) -> Template:
        profiles = await import_profiles.list_for(request.user.id)
        return self._upload_page(request, profiles, {})

    def _upload_page(
        self, request: Request[User, Any, Any], profiles: Any, errors: dict[str, str], status_code: int = 200
    ) -> Template:
        return render(
            request,
            "bank_import.html",
            status_code=status_code,
            step="upload",
            steps=STEPS,
            profiles=profiles,
            errors=errors,
            max_mib=IMPORT_FILE_MAX_BYTES // (1024 * 1024),
        )

    @post("/", request_max_body_size=IMPORT_FILE_MAX_BYTES + 64 * 1024)
    async def upload(
        self,
        request: Request[User, Any, Any],
        data: MultipartBody[StatementForm],
        bank_imports: BankImports,
        import_profiles: ImportProfiles,
    ) -> Template | Redirect:
        errors: dict[str, str] = {}
        status = 400
        profile_id: uuid.UUID | None = None
        if data.profile_id:
            try:
                profile_id = uuid.UUID(data.profile_id)
            except ValueError:
                errors["profile_id"] = "Choose one of your saved banks."
        if data.file is None or not data.file.filename:
            errors["file"] = "Choose the CSV file your bank exported."
        if not errors and data.file is not None:
            try:
                file: Any = data.file.file
                info = await bank_imports.store_upload(request.user, data.file.filename, file, profile_id)
            except ImportTooLargeError:
                errors["file"] = f"The file is larger than {IMPORT_FILE_MAX_BYTES // (1024 * 1024)} MiB."
                status = 413
            except FieldValidationError as exc:
                errors["file"] = "The file " + "; ".join(e["message"] for e in exc.errors) + "."
            else:
                query = {
                    **dialect_query(info.dialect),
                    **mapping_query(info.mapping),
                    "profile": str(info.profile_id or ""),
                }
                return see_other(with_query(f"{BASE}/{info.upload.id}/format", query))
        profiles = await import_profiles.list_for(request.user.id)
        return self._upload_page(request, profiles, errors, status_code=status)

    # --- Step 2: file format ---

    @get("/{upload_id:uuid}/format")
    async def format_page(
        self, request: Request[User, Any, Any], upload_id: FromPath[uuid.UUID], bank_imports: BankImports
    ) -> Template:
        upload = await self._upload(request, bank_imports, upload_id)
        values = dict(request.query_params)
        try:
            dialect = dialect_from(values) if "encoding" in values else statement.detect(upload.content)
        except StatementError as exc:
            return await self._format(request, upload, values, _error(exc), 400)
        return await self._format(request, upload, {**values, **dialect_query(dialect)}, {})

    async def _format(
        self,
        request: Request[User, Any, Any],
        upload: ImportUpload,
        values: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        header: list[str] = []
        ambiguous: list[str] = []
        encoding = values.get("encoding", "utf-8")
        if not errors:
            try:
                dialect = dialect_from(values)
                table = await anyio.to_thread.run_sync(statement.read_table, upload.content, dialect)
                header = table.header
                detected = await anyio.to_thread.run_sync(statement.detect, upload.content)
                if detected.date_ambiguous:
                    ambiguous = list(detected.date_formats)
            except StatementError as exc:
                errors, status_code = _error(exc), 400
        return render(
            request,
            "bank_import.html",
            status_code=status_code,
            step="format",
            steps=STEPS,
            upload=upload,
            form=values,
            errors=errors,
            lines=first_lines(upload.content, encoding if encoding in statement.ENCODING_CHOICES else "latin-1"),
            header=header,
            ambiguous=ambiguous,
            hidden={k: values.get(k, "") for k in (*MAPPING_KEYS, "profile")},
            choices={
                "encoding": statement.ENCODING_CHOICES,
                "delimiter": statement.DELIMITER_CHOICES,
                "date_format": statement.DATE_FORMAT_CHOICES,
                "decimal": statement.DECIMAL_CHOICES,
                "thousands": {(k or NO_THOUSANDS): v for k, v in statement.THOUSANDS_CHOICES.items()},
            },
        )

    @post("/{upload_id:uuid}/format")
    async def save_format(
        self,
        request: Request[User, Any, Any],
        upload_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        bank_imports: BankImports,
    ) -> Template | Redirect:
        upload = await self._upload(request, bank_imports, upload_id)
        try:
            dialect = dialect_from(data)
            table = await anyio.to_thread.run_sync(statement.read_table, upload.content, dialect)
        except StatementError as exc:
            return await self._format(request, upload, data, _error(exc), 400)
        query = {**{k: data.get(k, "") for k in (*MAPPING_KEYS, "profile")}, **dialect_query(dialect)}
        try:
            mapping = mapping_from(data)
        except StatementError:
            mapping = Mapping()
        if statement.validate_mapping(mapping, table.header):
            # Other columns than before (another header line or delimiter): start again from the guess.
            guessed = statement.guess_mapping(table.header, table.rows)
            currency = statement.guess_currency(table, guessed) or mapping.currency
            query.update(mapping_query(msgspec.structs.replace(guessed, currency=currency)))
        target = "format" if data.get("action") == "check" else "columns"
        return see_other(with_query(f"{BASE}/{upload.id}/{target}", query))

    # --- Step 3: columns ---

    @get("/{upload_id:uuid}/columns")
    async def columns_page(
        self, request: Request[User, Any, Any], upload_id: FromPath[uuid.UUID], bank_imports: BankImports
    ) -> Template | Redirect:
        upload = await self._upload(request, bank_imports, upload_id)
        return await self._columns(request, upload, dict(request.query_params), {})

    async def _columns(
        self,
        request: Request[User, Any, Any],
        upload: ImportUpload,
        values: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template | Redirect:
        try:
            dialect = dialect_from(values)
            table = await anyio.to_thread.run_sync(statement.read_table, upload.content, dialect)
        except StatementError:
            # The format is wrong or missing: that step says why.
            return see_other(with_query(f"{BASE}/{upload.id}/format", values))
        return render(
            request,
            "bank_import.html",
            status_code=status_code,
            step="columns",
            steps=STEPS,
            upload=upload,
            form={"currency": request.user.currency, **{k: v for k, v in values.items() if v != "" or k != "currency"}},
            default_currency=request.user.currency,
            errors=errors,
            header=table.header,
            columns={"": "(none)", **{h: h for h in table.header}},
            back_url=with_query(f"{BASE}/{upload.id}/format", values),
            sample=table.rows[:SAMPLE_ROWS],
            hidden={k: values.get(k, "") for k in (*DIALECT_FIELDS, "profile")},
            signs=statement.SIGN_CHOICES,
        )

    @post("/{upload_id:uuid}/columns")
    async def save_columns(
        self,
        request: Request[User, Any, Any],
        upload_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        bank_imports: BankImports,
    ) -> Template | Redirect:
        upload = await self._upload(request, bank_imports, upload_id)
        try:
            dialect = dialect_from(data)
            table = await anyio.to_thread.run_sync(statement.read_table, upload.content, dialect)
            mapping = mapping_from(data)
        except StatementError as exc:
            field = {"title": "title_1"}.get(exc.field, exc.field)
            return await self._columns(request, upload, data, {field: exc.message.capitalize()}, 400)
        problems = statement.validate_mapping(mapping, table.header)
        if problems:
            errors = {{"title": "title_1"}.get(k, k): v[:1].upper() + v[1:] for k, v in problems.items()}
            return await self._columns(request, upload, data, errors, 400)
        query = {
            **dialect_query(dialect),
            **mapping_query(mapping, data.get("skip_possible") == "true"),
            "profile": data.get("profile", ""),
        }
        return see_other(with_query(f"{BASE}/{upload.id}/preview", query))

    # --- Step 4: preview, and 5: import ---

    def _settings(self, upload: ImportUpload, values: dict[str, str]) -> ImportSettings:
        return ImportSettings(
            upload_id=upload.id,
            dialect=dialect_from(values),
            mapping=mapping_from(values),
            skip_possible_duplicates=values.get("skip_possible") == "true",
        )

    @get("/{upload_id:uuid}/preview")
    async def preview_page(
        self,
        request: Request[User, Any, Any],
        upload_id: FromPath[uuid.UUID],
        bank_imports: BankImports,
        import_profiles: ImportProfiles,
    ) -> Template | Redirect:
        upload = await self._upload(request, bank_imports, upload_id)
        return await self._preview(
            request, upload, dict(request.query_params), bank_imports, import_profiles, errors={}, row_errors=[]
        )

    async def _preview(
        self,
        request: Request[User, Any, Any],
        upload: ImportUpload,
        values: dict[str, str],
        bank_imports: BankImports,
        import_profiles: ImportProfiles,
        errors: dict[str, str],
        row_errors: list[dict[str, Any]],
        status_code: int = 200,
    ) -> Template | Redirect:
        try:
            settings = self._settings(upload, values)
            analysis = await bank_imports.analyse(request.user, settings)
        except (StatementError, FieldValidationError):
            return see_other(with_query(f"{BASE}/{upload.id}/columns", values))
        profile_name = values.get("save_as", "")
        if not profile_name and values.get("profile"):
            try:
                profile = await import_profiles.get_owned(request.user.id, uuid.UUID(values["profile"]))
                profile_name = profile.name
            except (ValueError, NotFoundError):  # a stale or deleted profile only loses its name here
                profile_name = ""
        state = {k: v for k, v in values.items() if k in (*DIALECT_FIELDS, *MAPPING_KEYS, "profile")}
        return render(
            request,
            "bank_import.html",
            status_code=status_code,
            step="preview",
            steps=STEPS,
            upload=upload,
            analysis=analysis,
            rows=analysis.statuses[:IMPORT_PREVIEW_ROWS],
            rejected=analysis.rejected(),
            errors=errors,
            row_errors=row_errors,
            hidden=state,
            format_url=with_query(f"{BASE}/{upload.id}/format", state),
            columns_url=with_query(f"{BASE}/{upload.id}/columns", state),
            save_as=profile_name,
            preview_rows=IMPORT_PREVIEW_ROWS,
        )

    @post("/{upload_id:uuid}/import")
    async def commit(
        self,
        request: Request[User, Any, Any],
        upload_id: FromPath[uuid.UUID],
        data: URLEncodedBody[dict[str, str]],
        bank_imports: BankImports,
        import_profiles: ImportProfiles,
    ) -> Template | Redirect:
        upload = await self._upload(request, bank_imports, upload_id)
        save_as: str | None = None
        if data.get("save_as", "").strip():
            try:
                save_as = clean_profile_name(data["save_as"])
            except ValueError as exc:
                message = str(exc).split(": ", 1)[-1]
                return await self._preview(
                    request,
                    upload,
                    data,
                    bank_imports,
                    import_profiles,
                    errors={"save_as": f"The name {message}."},
                    row_errors=[],
                    status_code=400,
                )
        profile_id = None
        if data.get("profile"):
            try:
                profile_id = uuid.UUID(data["profile"])
            except ValueError:
                profile_id = None
        try:
            settings = self._settings(upload, data)
            result = await bank_imports.import_statement(request.user, settings, save_as, profile_id)
        except ImportRowsError as exc:
            # Nothing was stored; the page says which rows to fix (the file, or the settings of step 2 or 3).
            return await self._preview(
                request, upload, data, bank_imports, import_profiles, {}, exc.errors, status_code=422
            )
        except (StatementError, FieldValidationError):
            return see_other(with_query(f"{BASE}/{upload.id}/columns", data))
        query = {
            "imported": str(result.imported),
            "duplicates": str(result.duplicates),
            "skipped": str(result.skipped),
            "categories": ", ".join(result.categories_created),
            "saved": save_as or "",
        }
        return see_other(with_query(f"{BASE}/{upload.id}/done", query))

    @get("/{upload_id:uuid}/done")
    async def done_page(self, request: Request[User, Any, Any], upload_id: FromPath[uuid.UUID]) -> Template:
        values = request.query_params

        def number(key: str) -> int:
            raw = values.get(key, "0")
            return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0

        return render(
            request,
            "bank_import.html",
            step="done",
            steps=STEPS,
            imported=number("imported"),
            duplicates=number("duplicates"),
            skipped=number("skipped"),
            categories=values.get("categories", "")[:500],
            saved=values.get("saved", "")[:100],
        )
