"""A newcomer's first minutes, in a real browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Invitation, Organization

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_invite_and_switch_to_chinese(live_server, page, console_errors):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Mei Chen")
    page.get_by_label("Work e-mail").fill("mei@widgets.test")
    page.get_by_label("Password").fill("a long enough secret")
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_role("button", name="Create account").click()

    # Nobody is logged in before the address is confirmed: the link comes by mail.
    page.wait_for_url(re.compile(r"/accounts/signup/sent/$"))
    assert page.get_by_role("heading", name="Check your e-mail").is_visible()
    assert mail.outbox and mail.outbox[-1].to == ["mei@widgets.test"]
    link = re.search(r"http://\S+?(/accounts/signup/confirm/\S+/)", mail.outbox[-1].body)
    page.goto(live_server.url + link.group(1))
    page.get_by_label("Password").fill("a long enough secret")
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile(r"/orgs/new/$"))
    page.get_by_label("Organization name").fill("Widgets Ltd")
    page.get_by_role("button", name="Create organization").click()

    page.wait_for_url(re.compile(r"/o/widgets-ltd/$"))
    assert Organization.objects.get(slug="widgets-ltd").name == "Widgets Ltd"
    assert page.get_by_role("heading", name="Widgets Ltd").is_visible()

    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_text("More", exact=True).click()
    main_nav.get_by_role("link", name="Members").click()
    page.get_by_label("E-mail").fill("rep@widgets.test")
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to rep@widgets.test.").is_visible()
    assert Invitation.objects.dangerously_unscoped().filter(email="rep@widgets.test").exists()
    assert mail.outbox and mail.outbox[-1].to == ["rep@widgets.test"]
    assert page.get_by_role("cell", name="rep@widgets.test").is_visible()

    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_text("更多", exact=True).click()
    assert nav.get_by_role("link", name="成员").is_visible()
    assert nav.get_by_role("link", name="设置").is_visible()
    assert page.get_by_role("heading", name="成员", exact=True).is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    console_errors.assert_none()


def test_the_shell_fits_a_phone(live_server, phone, console_errors, django_user_model):
    from accounts.services import user_sign_up

    user_sign_up(
        email="rep@phone.test",
        password="a long enough secret",
        display_name="Rep",
        organization_name="Phone Co",
    )
    phone.goto(live_server.url + "/accounts/login/")
    phone.get_by_label("E-mail").fill("rep@phone.test")
    phone.get_by_label("Password").fill("a long enough secret")
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(re.compile(r"/o/phone-co/$"))
    # Nothing sticks out sideways at 375 px.
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    console_errors.assert_none()


def test_the_api_docs_work_offline(live_server, page, console_errors):
    """Swagger UI comes from the sidecar package: no CDN, no CSP violation."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + "/api/docs/")
    # The first operations render from the local schema (Swagger UI virtualizes the long
    # list of 80 paths, so only what is near the top is in the page at first).
    page.locator(".opblock-summary-path").first.wait_for()
    assert any("/api/schema/" in url for url in requests)
    foreign = [url for url in requests if not url.startswith((live_server.url, "data:"))]
    assert foreign == []
    console_errors.assert_none()
