"""Fixtures for the report tests: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    Request,
    Route,
    sync_playwright,
)

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

# -- Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
            "or point SCALEARC_LINT_CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        # Playwright adds --headless and a fresh temporary --user-data-dir itself.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class OpenedReport:
    """A report open in Chromium, with everything the page tried to do."""

    page: Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def applied(self) -> int:
        """How many times the report's script has applied the filters."""
        return int(self.page.evaluate("Number(document.body.dataset.applied || 0)"))

    def visible_rows(self, section: str = "#results") -> list[list[str]]:
        """The cells of every result row a person can see in ``section``."""
        rows: list[list[str]] = self.page.evaluate(
            """section => Array.from(document.querySelectorAll(section + ' tbody tr'))
                .filter(tr => tr.offsetParent !== null)
                .map(tr => Array.from(tr.cells).map(td => td.textContent))""",
            section,
        )
        return rows

    def after_change(self, action: Callable[[], object], timeout_ms: float = 10_000) -> None:
        """Run ``action`` and wait until the script has applied the filters again."""
        before = self.applied()
        action()
        # A function, not an expression: the report's CSP forbids eval, even Playwright's.
        self.page.wait_for_function(
            "before => Number(document.body.dataset.applied || 0) > before",
            arg=before,
            timeout=timeout_ms,
        )


#: The viewport the report tests use unless they say otherwise (a laptop).
DESKTOP = (1400, 1100)


class ReportOpener(Protocol):
    """Opens a report file in Chromium and waits for its script to be ready."""

    def __call__(
        self, path: Path, *, timeout_ms: float = ..., viewport: tuple[int, int] = ...
    ) -> OpenedReport: ...


@pytest.fixture
def open_report(browser: Browser) -> Iterator[ReportOpener]:
    """Open an HTML file in a fresh browser context that records requests, dialogs, errors."""
    contexts: list[BrowserContext] = []

    def opener(
        path: Path, *, timeout_ms: float = 10_000, viewport: tuple[int, int] = DESKTOP
    ) -> OpenedReport:
        width, height = viewport
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = OpenedReport(page)

        def route(request_route: Route) -> None:
            # Recorded by the "request" listener; anything off this machine is cut off.
            if request_route.request.url.startswith("file:"):
                request_route.continue_()
            else:
                request_route.abort()

        def on_request(request: Request) -> None:
            opened.requests.append(request.url)

        def on_dialog(dialog: Dialog) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_page_error(error: Error) -> None:
            opened.errors.append(str(error))

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                opened.errors.append(message.text)

        context.route("**/*", route)
        page.on("request", on_request)
        page.on("dialog", on_dialog)
        page.on("pageerror", on_page_error)
        page.on("console", on_console)
        page.goto(path.resolve().as_uri(), timeout=timeout_ms)
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=timeout_ms)
        return opened

    yield opener
    for context in contexts:
        context.close()
