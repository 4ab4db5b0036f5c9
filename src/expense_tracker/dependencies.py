"""Request-scoped dependencies: services bound to the request's database session, and app-wide singletons."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from expense_tracker.domain.accounts.oauth import IdentityProviders
from expense_tracker.domain.accounts.services import UserService
from expense_tracker.domain.categories.services import CategoryService
from expense_tracker.domain.expenses.services import ExpenseService
from expense_tracker.settings import Settings

# Handlers declare what they need with these aliases; Litestar 3 requires dependencies to be marked explicitly.
Users = NamedDependency[UserService]
Categories = NamedDependency[CategoryService]
Expenses = NamedDependency[ExpenseService]
AppSettings = NamedDependency[Settings]
Providers = NamedDependency[IdentityProviders]
DbSession = NamedDependency[AsyncSession]


async def provide_users(db_session: DbSession) -> AsyncGenerator[UserService, None]:
    async with UserService.new(session=db_session) as service:
        yield service


async def provide_categories(db_session: DbSession) -> AsyncGenerator[CategoryService, None]:
    async with CategoryService.new(session=db_session) as service:
        yield service


async def provide_expenses(db_session: DbSession) -> AsyncGenerator[ExpenseService, None]:
    async with ExpenseService.new(session=db_session) as service:
        yield service


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_identity_providers(state: State) -> IdentityProviders:
    providers: IdentityProviders = state.identity_providers
    return providers


DEPENDENCIES = {
    "users": Provide(provide_users),
    "categories": Provide(provide_categories),
    "expenses": Provide(provide_expenses),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "providers": Provide(provide_identity_providers, sync_to_thread=False),
}
