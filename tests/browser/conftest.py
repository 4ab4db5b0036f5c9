"""Real Chromium (Debian's package, never a downloaded browser) driving the real app served on 127.0.0.1.

Where no Chromium is installed the browser tests skip with the reason; ``REQUIRE_BROWSER=1`` (CI) makes that a failure.
Screenshots of every page go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    OIDC_DISCOVERY,
    ThrowawayPostgres,
    migrate,
    postgres_unavailable_reason,
    require_postgres,
    run_in_thread,
)
from tests.servers import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _require_chromium() -> str:
    if CHROMIUM:
        return CHROMIUM
    reason = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on PostgreSQL in its own process. Sync on purpose: Playwright's sync API owns this thread's loop."""
    require_postgres(run_in_thread(postgres_unavailable_reason()))
    databases = ThrowawayPostgres()
    database_url = run_in_thread(databases.create())
    migrate(database_url)
    log = tmp_path_factory.mktemp("server") / "server.log"
    # Both providers are configured so the sign-in page offers them; nothing contacts them (the OIDC discovery URL is
    # a closed loopback port).
    providers = {
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "OIDC_DISCOVERY_URL": OIDC_DISCOVERY,
        "OIDC_CLIENT_ID": "oidc-client",
        "OIDC_CLIENT_SECRET": "oidc-secret",
        "OIDC_PROVIDER_NAME": "Keycloak",
    }
    process, base = serve(database_url, log, **providers)
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    run_in_thread(databases.drop_all())


# Module scope on purpose: while sync Playwright is open it keeps an event loop running on this thread, and async
# tests that xdist later schedules on the same worker would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class UI:
    """A signed-in person in a fresh browser context, with helpers that read like what they do."""

    def __init__(
        self,
        browser: Any,
        base: str,
        *,
        javascript: bool = True,
        viewport: tuple[int, int] = (1280, 900),
        locale: str = "en-US",
    ):
        self.base = base
        # An explicit browser language (it is the Accept-Language the app formats and parses amounts with).
        self.context = browser.new_context(
            base_url=base,
            java_script_enabled=javascript,
            viewport={"width": viewport[0], "height": viewport[1]},
            locale=locale,
        )
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.email = f"person-{uuid.uuid4().hex[:8]}@example.com"

    def sign_in(self, name: str = "Pat Example") -> None:
        self.page.goto("/login")
        self.page.get_by_label("Email").fill(self.email)
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"{self.base}/")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def add_expense(self, title: str, amount: str, *, category: str | None = None, day: str | None = None) -> None:
        page = self.page
        page.goto("/expenses/new")
        page.get_by_label("What").fill(title)
        page.get_by_label("Amount").fill(amount)
        if category:
            page.get_by_label("Category").select_option(label=category)
        if day:
            page.get_by_label("Date").fill(day)
        page.get_by_role("button", name="Add expense").click()
        page.wait_for_url("**/expenses?msg=added")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def ui(browser: Any, live_server: str) -> Iterator[UI]:
    person = UI(browser, live_server)
    person.sign_in()
    yield person
    csp_violations = [m for m in person.console if "Content Security Policy" in m]
    person.close()
    assert csp_violations == []
