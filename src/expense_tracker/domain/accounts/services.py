"""Users, their identities at sign-in providers, and revoked sessions."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, exists, func, select, update

from expense_tracker.constants import DEFAULT_CATEGORIES, LAST_SEEN_RESOLUTION
from expense_tracker.db.models import Category, OAuthIdentity, RevokedToken, User


class AccountDisabledError(Exception):
    """The identity belongs to a deactivated user."""


class UserService(SQLAlchemyAsyncRepositoryService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def get_active(self, user_id: uuid.UUID, jti: str) -> User | None:
        """The session's user, if active and the session token has not been revoked: one round trip per request."""
        revoked = exists().where(RevokedToken.jti == jti)
        statement = select(User).where(User.id == user_id, User.is_active.is_(True), ~revoked)
        user: User | None = (await self.repository.session.execute(statement)).scalar_one_or_none()
        if user is not None:
            await self._mark_seen(user)
        return user

    async def _mark_seen(self, user: User) -> None:
        """Record activity at most once per ``LAST_SEEN_RESOLUTION``: one extra write per user every few minutes,
        not per request. A Core UPDATE, so the profile's ``updated_at`` keeps meaning "profile changed"."""
        now = dt.datetime.now(dt.UTC)
        if user.last_seen_at is not None and now - user.last_seen_at < LAST_SEEN_RESOLUTION:
            return
        await self.repository.session.execute(
            update(User).where(User.id == user.id).values(last_seen_at=now, updated_at=User.updated_at)
        )

    async def count_active(self, window: dt.timedelta) -> int:
        since = dt.datetime.now(dt.UTC) - window
        return int(
            await self.repository.session.scalar(
                select(func.count()).select_from(User).where(User.last_seen_at >= since)
            )
            or 0
        )

    async def sign_in(self, *, provider: str, subject: str, email: str, name: str) -> User:
        """Find or create the user behind a verified identity; new users get the default categories."""
        session = self.repository.session
        email = email.strip().lower()
        identity = await session.scalar(
            select(OAuthIdentity).where(OAuthIdentity.provider == provider, OAuthIdentity.subject == subject)
        )
        user = await session.get(User, identity.user_id) if identity else None
        if user is None:
            # Providers only hand us verified emails, so an existing account with that email is the same person.
            user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name.strip() or email.split("@")[0])
            session.add(user)
            await session.flush()
            session.add_all(Category(user_id=user.id, name=n, color=c) for n, c in DEFAULT_CATEGORIES)
        if not user.is_active:
            raise AccountDisabledError(email)
        if identity is None:
            session.add(OAuthIdentity(provider=provider, subject=subject, user_id=user.id))
        await session.flush()
        return user

    async def revoke(self, jti: str, expires_at: dt.datetime) -> None:
        session = self.repository.session
        await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < dt.datetime.now(dt.UTC)))
        if not await session.scalar(select(exists().where(RevokedToken.jti == jti))):
            session.add(RevokedToken(jti=jti, expires_at=expires_at))
        await session.flush()
