from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template

from expense_tracker.constants import IMPORT_FILE_MAX_BYTES
from expense_tracker.db.models import User
from expense_tracker.dependencies import Categories, Expenses, Providers, Rates, Users
from expense_tracker.domain.accounts.schemas import UserSettings
from expense_tracker.domain.expenses import csv_io
from expense_tracker.domain.expenses.services import ImportTooLargeError
from expense_tracker.domain.web.common import HTML_OPT, render, see_other
from expense_tracker.domain.web.forms import parse_form
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.locales import locale_names, negotiate
from expense_tracker.lib.problems import FieldValidationError
from expense_tracker.lib.timezones import timezone_groups


@dataclass
class UploadForm:
    file: UploadFile | None = None


class AccountPages(Controller):
    include_in_schema = False
    opt = HTML_OPT

    @get("/import")
    async def import_page(self, request: Request[User, Any, Any]) -> Template:
        return render(request, "import.html", errors=[], error_count=0, imported=None, columns=csv_io.COLUMNS)

    @post("/import", request_max_body_size=IMPORT_FILE_MAX_BYTES + 64 * 1024)
    async def import_upload(
        self, request: Request[User, Any, Any], data: MultipartBody[UploadForm], expenses: Expenses
    ) -> Template:
        context: dict[str, Any] = {"errors": [], "error_count": 0, "imported": None, "columns": csv_io.COLUMNS}
        if data.file is None or not data.file.filename:
            context["errors"] = [{"row": "", "field": "file", "message": "Choose a CSV file to import."}]
            return render(request, "import.html", status_code=400, **context)
        try:
            result = await expenses.import_upload(request.user, data.file)
        except ImportTooLargeError:
            context["errors"] = [{"row": "", "field": "file", "message": "The file is larger than 5 MiB."}]
            return render(request, "import.html", status_code=413, **context)
        except csv_io.ImportRejectedError as exc:
            return render(
                request, "import.html", status_code=400, **{**context, "errors": exc.errors, "error_count": exc.total}
            )
        return render(
            request, "import.html", **{**context, "imported": result.imported, "created": result.categories_created}
        )

    @get("/settings")
    async def settings_page(
        self, request: Request[User, Any, Any], users: Users, providers: Providers, expenses: Expenses
    ) -> Template:
        user = request.user
        form = {"currency": user.currency, "theme": user.theme, "timezone": user.timezone, "locale": user.locale or ""}
        form["convert_totals"] = "on" if user.convert_totals else ""
        return await self._settings(request, users, providers, expenses, form, {})

    @post("/settings")
    async def save_settings(
        self,
        request: Request[User, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        users: Users,
        providers: Providers,
        expenses: Expenses,
        categories: Categories,
        rates: Rates,
    ) -> Template | Redirect:
        """Saves the settings; a new default currency is saved only once the second step has confirmed it.

        The confirmation names the currency it confirms (``confirm_currency``), so a stale or forged confirmation of
        another change does not count. Without JavaScript this is a page of its own; nothing is saved before it.
        """
        user = request.user
        # A checkbox: "on" when ticked, absent when not (the Struct's strict bool takes neither).
        convert_totals = data.get("convert_totals") == "on"
        body, errors = parse_form(
            UserSettings,
            {k: v for k, v in data.items() if k != "convert_totals"},
            optional=frozenset({"locale"}),  # blank: follow the browser
        )
        if body is None:
            return await self._settings(request, users, providers, expenses, data, errors, status_code=400)
        body.convert_totals = convert_totals
        if problem := check_chosen_currency(body.currency, user.currency):
            errors = {"currency": problem.capitalize()}
            return await self._settings(request, users, providers, expenses, data, errors, status_code=400)
        if body.currency != user.currency and data.get("confirm_currency") != body.currency:
            budgets = [c for c in await categories.list_for(user.id) if c.monthly_budget is not None]
            values = {"currency": body.currency, "theme": body.theme, "timezone": body.timezone}
            if body.locale:
                values["locale"] = body.locale
            if convert_totals:
                values["convert_totals"] = "on"
            return render(
                request,
                "settings_confirm.html",
                new=body.currency,
                old=user.currency,
                values=values,
                budgets=budgets[:3],
                # Rates are per base currency: those into the old one stop applying, which the person must know.
                old_rates=sum(1 for r in await rates.list_for(user.id) if r.base == user.currency),
            )
        try:
            await users.save_settings(user, body)
        except FieldValidationError as exc:
            return await self._settings(request, users, providers, expenses, data, exc.by_field(), status_code=400)
        return see_other("/settings", msg="settings-saved")

    async def _settings(
        self,
        request: Request[User, Any, Any],
        users: Users,
        providers: Providers,
        expenses: Expenses,
        form: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        # Linking starts the normal sign-in flow; the callback links the identity to this signed-in user.
        linked = await users.linked_providers(request.user.id)
        return render(
            request,
            "settings.html",
            status_code=status_code,
            form=form,
            errors=errors,
            recent_currencies=await expenses.recent_currencies(request.user),
            timezone_groups=timezone_groups(),
            listed_timezones={name for _, names in timezone_groups() for name in names},
            locales=locale_names(),
            browser_locale=locale_names().get(negotiate(request.headers.get("accept-language"))),
            sign_in_methods=[(key, label, key in linked) for key, label in providers.labels.items()],
        )
