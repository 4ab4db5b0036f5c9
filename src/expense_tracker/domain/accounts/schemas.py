from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from expense_tracker.lib.locales import parse_locale
from expense_tracker.lib.money import parse_currency
from expense_tracker.lib.problems import field_error
from expense_tracker.lib.timezones import parse_timezone

Theme = Literal["light", "dark", "system"]


class UserRead(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    currency: str
    theme: str
    timezone: str
    locale: str | None
    created_at: dt.datetime


EMAIL_MAX = 254
"""RFC 5321's limit for a usable address; it also fits ``oauth_identity.subject`` (255), which stores it."""
_EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+$"
"""The local part is at most 64 characters (RFC 5321) and becomes the default display name (``user_account.name``
holds 200). No NUL (PostgreSQL cannot store it) and no other control characters."""


class DevLogin(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=EMAIL_MAX, pattern=_EMAIL_PATTERN)]
    name: Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class AccessToken(msgspec.Struct):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = 0


LocaleId = Annotated[
    str | None,
    msgspec.Meta(
        description=(
            "CLDR locale for amounts and dates in the web pages (`de_DE`, `en_US`...); null follows the browser's "
            "Accept-Language. The JSON API and CSV files are locale-independent whatever it is."
        ),
        examples=["de_DE"],
    ),
]


class UserSettings(msgspec.Struct, forbid_unknown_fields=True):
    currency: str
    theme: Theme
    timezone: str
    locale: LocaleId = None
    convert_totals: bool = False
    """Show totals converted to the default currency with your exchange rates (reports' ``convert`` default)."""

    def __post_init__(self) -> None:
        try:
            self.currency = parse_currency(self.currency)
        except ValueError as exc:
            raise field_error("currency", str(exc)) from None
        try:
            self.timezone = parse_timezone(self.timezone)
        except ValueError as exc:
            raise field_error("timezone", str(exc)) from None
        if self.locale is not None:
            try:
                self.locale = parse_locale(self.locale)
            except ValueError as exc:
                raise field_error("locale", str(exc)) from None
