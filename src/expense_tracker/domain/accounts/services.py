"""Users, their identities at sign-in providers, and revoked sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from expense_tracker.constants import DEFAULT_CATEGORIES, LAST_SEEN_RESOLUTION
from expense_tracker.db.models import Category, OAuthIdentity, RevokedToken, User
from expense_tracker.db.statements import insert_unless_present
from expense_tracker.domain.accounts.oauth import IdentityProvider, IdentityProviders, SignInError
from expense_tracker.domain.accounts.session_cache import cache_of
from expense_tracker.lib import metrics
from expense_tracker.lib.currencies import check_chosen_currency
from expense_tracker.lib.problems import FieldValidationError

if TYPE_CHECKING:
    from expense_tracker.domain.accounts.schemas import UserSettings

DEV_PROVIDER = "dev"
"""The development login's provider key: its subject is the e-mail itself."""


EMAIL_IN_USE = (
    "This e-mail already has an account; sign in with the provider you used before, then link this one from Settings."
)
DEACTIVATED = "This account is deactivated."


class AccountDisabledError(Exception):
    """The identity belongs to a deactivated user."""


class EmailInUseError(Exception):
    """A first sign-in with an identity whose e-mail already belongs to another account (which must link it)."""


class UserService(SQLAlchemyAsyncRepositoryService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def get_active(self, user_id: uuid.UUID, jti: str) -> User | None:
        """The session's user, if active and the session token has not been revoked: one round trip per request."""
        revoked = exists().where(RevokedToken.jti == jti)
        statement = select(User).where(User.id == user_id, User.is_active.is_(True), ~revoked)
        user: User | None = (await self.repository.session.execute(statement)).scalar_one_or_none()
        if user is not None and (seen_at := self.last_seen_due(user)) is not None:
            await self.mark_seen(user.id, seen_at)
            # As loaded, not as a change: a dirty user would be flushed again (and its updated_at bumped).
            set_committed_value(user, "last_seen_at", seen_at)
        return user

    @staticmethod
    def last_seen_due(user: User) -> dt.datetime | None:
        """Now, if the user's activity should be recorded: at most once per ``LAST_SEEN_RESOLUTION``, so one extra
        write per user every few minutes, not per request."""
        now = dt.datetime.now(dt.UTC)
        if user.last_seen_at is not None and now - user.last_seen_at < LAST_SEEN_RESOLUTION:
            return None
        return now

    async def mark_seen(self, user_id: uuid.UUID, at: dt.datetime) -> None:
        """A Core UPDATE, so the profile's ``updated_at`` keeps meaning "profile changed"."""
        await self.repository.session.execute(
            update(User).where(User.id == user_id).values(last_seen_at=at, updated_at=User.updated_at)
        )

    async def save_settings(self, user: User, settings: UserSettings) -> None:
        """Store ``settings`` (API and settings page). A newly chosen currency must be in use today; the stored one
        may stay whatever it is. Budgets and expenses are not touched: they keep their own currencies."""
        if problem := check_chosen_currency(settings.currency, user.currency):
            raise FieldValidationError([{"field": "currency", "message": problem}])
        values = {
            "currency": settings.currency,
            "theme": settings.theme,
            "timezone": settings.timezone,
            "convert_totals": settings.convert_totals,
            "locale": settings.locale,
        }
        await self.update(values, item_id=user.id)

    async def count_active(self, window: dt.timedelta) -> int:
        since = dt.datetime.now(dt.UTC) - window
        return int(
            await self.repository.session.scalar(
                select(func.count()).select_from(User).where(User.last_seen_at >= since)
            )
            or 0
        )

    async def sign_in(
        self, *, provider: str, subject: str, email: str, name: str, signed_in: User | None = None
    ) -> User:
        """The user behind a verified identity, matched by (provider, subject) only.

        An identity seen for the first time is linked to ``signed_in`` (the user whose live session started this
        sign-in) or else gets a new user with the default categories. It is never linked to whoever owns its e-mail:
        any configured provider can vouch for any address, so matching by e-mail would let an account at one provider
        take over an account made with another (issue #10). The one exception is the development login, whose
        subject *is* the e-mail and which is refused in production anyway.
        """
        session = self.repository.session
        email = email.strip().lower()
        identity = await session.scalar(
            select(OAuthIdentity).where(OAuthIdentity.provider == provider, OAuthIdentity.subject == subject)
        )
        user = await session.get(User, identity.user_id) if identity else signed_in
        if user is None:
            owner = await session.scalar(select(User).where(User.email == email))
            if owner is not None and provider != DEV_PROVIDER:
                raise EmailInUseError(email)
            user = owner
        if user is None:
            user = User(email=email, name=name.strip() or email.split("@")[0])
            session.add(user)
            try:
                await session.flush()
            except IntegrityError:  # a concurrent first sign-in with the same e-mail won the race
                raise EmailInUseError(email) from None
            session.add_all(Category(user_id=user.id, name=n, color=c) for n, c in DEFAULT_CATEGORIES)
        if not user.is_active:
            raise AccountDisabledError(email)
        if identity is None:
            session.add(OAuthIdentity(provider=provider, subject=subject, user_id=user.id))
        await session.flush()
        metrics.SIGN_INS.labels(provider=provider).inc()
        return user

    async def dev_sign_in(self, email: str, name: str) -> User:
        """The development login (API and page alike): the e-mail is the identity. Raises ``AccountDisabledError``."""
        return await self.sign_in(provider=DEV_PROVIDER, subject=email.lower(), email=email, name=name)

    async def oauth_sign_in(
        self,
        idp: IdentityProvider,
        providers: IdentityProviders,
        *,
        stored: Mapping[str, Any],
        state_param: str | None,
        code: str | None,
        error: str | None,
        linking_user: Callable[[], Awaitable[User | None]],
    ) -> User:
        """Finish an OAuth sign-in at the callback: check the ``state`` remembered at login (``stored``, its signed
        claims) and use it once, exchange the code with the PKCE verifier, then sign in (or link) the identity.

        Every refusal is a :class:`SignInError` whose ``reason`` is counted once in the failures metric; a success is
        counted by :meth:`sign_in`. ``linking_user`` is asked only after the provider confirmed the identity.
        """
        try:
            return await self._oauth_sign_in(idp, providers, stored, state_param, code, error, linking_user)
        except SignInError as exc:
            metrics.SIGN_IN_FAILURES.labels(provider=idp.key, reason=exc.reason).inc()
            raise

    async def _oauth_sign_in(
        self,
        idp: IdentityProvider,
        providers: IdentityProviders,
        stored: Mapping[str, Any],
        state_param: str | None,
        code: str | None,
        error: str | None,
        linking_user: Callable[[], Awaitable[User | None]],
    ) -> User:
        expected, verifier = str(stored.get("s", "")), str(stored.get("v", ""))
        # Without the verifier the exchange would go out with PKCE silently off, so a cookie lacking it is as bad as
        # a missing one.
        matches = bool(expected) and hmac.compare_digest(expected, state_param or "")
        if not matches or not verifier or stored.get("p") != idp.key:
            raise SignInError("bad_state", "Sign-in state is missing or does not match; start again.")
        if not await self.consume_once(expected, dt.datetime.fromtimestamp(int(stored["exp"]), dt.UTC)):
            raise SignInError("bad_state", "This sign-in was already used; start again.")
        if error or not code:
            raise SignInError("cancelled", "Sign-in was cancelled at the provider.")
        identity = await providers.exchange(idp, code, verifier)
        try:
            return await self.sign_in(
                provider=idp.key,
                subject=identity.subject,
                email=identity.email,
                name=identity.name,
                signed_in=await linking_user(),
            )
        except EmailInUseError:
            raise SignInError("email_in_use", EMAIL_IN_USE) from None
        except AccountDisabledError:
            raise SignInError("disabled", DEACTIVATED) from None

    async def linked_providers(self, user_id: uuid.UUID) -> set[str]:
        statement = select(OAuthIdentity.provider).where(OAuthIdentity.user_id == user_id)
        return set((await self.repository.session.scalars(statement)).all())

    async def consume_once(self, one_time_id: str, expires_at: dt.datetime) -> bool:
        """Record that a one-time value (an OAuth ``state``) was used; ``False`` if it already was.

        Stored as a revoked "token" (its SHA-256 as the id) so every worker process shares the record with no new
        table, and committed at once: a replay is refused even if the sign-in that used it fails afterwards. The
        unique index, not a read-then-write, decides a race between two concurrent uses.
        """
        session = self.repository.session
        await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < dt.datetime.now(dt.UTC)))
        session.add(RevokedToken(jti=hashlib.sha256(one_time_id.encode()).hexdigest(), expires_at=expires_at))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
        return True

    async def revoke(self, jti: str, expires_at: dt.datetime) -> None:
        session = self.repository.session
        await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < dt.datetime.now(dt.UTC)))
        # Two logouts with one token at once (a double click) both succeed: the second finds it already revoked.
        await insert_unless_present(session, RevokedToken, {"jti": jti, "expires_at": expires_at})
        if (cache := cache_of(session.sync_session)) is not None:
            cache.revoked(jti)  # this process refuses the token from its next request on, not after the bound
