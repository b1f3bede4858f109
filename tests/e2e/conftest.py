"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Playwright cannot download its own browser here, so the tests use /usr/bin/chromium
(installed by .ci/run). Without it they skip, unless FOLLOWUP_REQUIRE_BROWSER=1 (set by
.ci/run) turns the missing browser into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("FOLLOWUP_CHROMIUM", "/usr/bin/chromium")
# The sync Playwright API runs an event loop in the test thread; the ORM calls that tests
# make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not _browser_available():
        if os.environ.get("FOLLOWUP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class ConsoleErrors(list):
    def assert_none(self) -> None:
        assert list(self) == [], f"Browser console errors: {list(self)}"


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


def _new_page(browser, console_errors: ConsoleErrors, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(browser, console_errors) -> Iterator[object]:
    context, page = _new_page(browser, console_errors, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone(browser, console_errors) -> Iterator[object]:
    """A 375 px wide touch screen, like the reps' phones."""
    context, page = _new_page(
        browser,
        console_errors,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    yield page
    context.close()
