"""Steps shared by the browser tests of daily use (search, bulk work, comments, offline)."""

from __future__ import annotations

import re

from tests.factories import PASSWORD


def log_in(page, base_url: str, email: str, org_slug: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(rf"/o/{org_slug}/$"))


def horizontal_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
