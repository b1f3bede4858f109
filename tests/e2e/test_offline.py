"""The offline quick log in Chromium: a rep logs touchpoints without a network, sees what is
waiting, and the outbox sends each exactly once when the network is back, also when a send
is cut off after the server saved it, or answered with an error, and retried."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from engagements.models import Touchpoint
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Chromium logs every request that fails on purpose here (a dropped connection, a 503, the
# 403 of a stale CSRF token).
NETWORK_NOISE = re.compile(
    r"^Failed to load resource: (net::ERR_|the server responded with a status of (503|403))"
)


@pytest.fixture
def field(live_server):
    org = OrganizationFactory(name="Field Org", slug="field-org")
    rep = MembershipFactory(
        organization=org, role=Role.MEMBER, user__email="rep@field.test", user__timezone="UTC"
    ).user
    customer = make_customer(org, name="Basement Bakery", owner=rep)
    make_engagement(org, customer=customer, owner=rep)
    return org, rep, customer


def _ready(page, base_url: str) -> None:
    log_in(page, base_url, "rep@field.test", "field-org")
    page.goto(base_url + "/o/field-org/touchpoints/log/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # The service worker keeps the page once it controls it: load it once more under it.
    page.reload()
    for _ in range(100):  # (wait_for_function would evaluate a string: the CSP forbids it)
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def _log(page, summary: str, channel: str = "Visit") -> None:
    page.get_by_text(channel, exact=True).click()
    page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Log touchpoint", exact=True).click()


def _waiting(page) -> int:
    return page.evaluate("window.followupOutbox.count()")


def _wait_sent(page) -> None:
    for _ in range(200):
        if _waiting(page) == 0:
            break
        page.wait_for_timeout(100)
    assert _waiting(page) == 0
    page.locator("#outbox-status").wait_for(state="hidden")


def test_two_touchpoints_logged_offline_are_sent_once(live_server, phone, console_errors, field):
    org, rep, customer = field
    _ready(phone, live_server.url)
    with phone.expect_response(re.compile(r"/touchpoints/log/\?")):
        phone.get_by_label("Customer", exact=True).select_option(label="Basement Bakery")

    phone.context.set_offline(True)
    _log(phone, "No signal down here: bread order up 20 %")
    phone.locator("[data-offline-note]").get_by_text("Saved on this phone.").wait_for()
    status = phone.locator("#outbox-status")
    assert status.inner_text() == "1 waiting to send"
    _log(phone, "Second one, still offline", channel="Call")
    phone.locator("#outbox-status").filter(has_text="2 waiting to send").wait_for()
    assert status.inner_text() == "2 waiting to send" and status.is_visible()
    waiting = phone.locator("#outbox-list li")
    assert waiting.count() == 2
    assert "Basement Bakery" in waiting.first.inner_text()
    assert "No signal down here" in waiting.first.inner_text()
    assert Touchpoint.objects.for_org(org).count() == 0
    assert horizontal_overflow(phone) <= 0

    # Meanwhile the CSRF cookie is gone (as after a new log-in elsewhere): the queued token
    # is refused with 403, the outbox fetches a fresh one and sends again.
    phone.context.clear_cookies(name="csrftoken")
    answers = []
    phone.on("response", lambda r: r.request.method == "POST" and answers.append(r.status))
    phone.context.set_offline(False)
    _wait_sent(phone)
    assert answers == [403, 200, 200]
    logged = Touchpoint.objects.for_org(org).order_by("created_at")
    assert [t.summary for t in logged] == [
        "No signal down here: bread order up 20 %",
        "Second one, still offline",
    ]
    assert [t.channel for t in logged] == ["visit", "call"]
    assert all(t.customer_id == customer.pk and t.logged_by_id == rep.pk for t in logged)
    assert phone.locator("#outbox").is_hidden()
    console_errors[:] = [e for e in console_errors if not NETWORK_NOISE.match(e)]
    console_errors.assert_none()


def test_an_interrupted_sync_is_retried_without_duplicates(
    live_server, phone, console_errors, field
):
    org, _rep, _customer = field
    _ready(phone, live_server.url)
    phone.context.set_offline(True)
    phone.get_by_label("Customer", exact=True).select_option(label="Basement Bakery")
    _log(phone, "First, cut off after the server saved it")
    _log(phone, "Second, answered 503 the first time")
    phone.locator("#outbox-status").filter(has_text="2 waiting to send").wait_for()

    posts: list[str] = []

    def flaky(route):
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        posts.append(request.headers["idempotency-key"])
        if len(posts) == 1:
            route.fetch()  # the server logs it ...
            route.abort("connectionreset")  # ... and the answer is lost on the way
        elif len(posts) == 3:
            route.fulfill(status=503, body="Service unavailable")
        else:
            route.continue_()

    phone.route(re.compile(r"/touchpoints/log/$"), flaky)
    phone.context.set_offline(False)
    _wait_sent(phone)
    assert Touchpoint.objects.for_org(org).count() == 2
    # Each touchpoint was posted twice with its own key: once lost or refused, once answered.
    assert len(posts) == 4 and posts[0] == posts[1] and posts[2] == posts[3]
    assert posts[0] != posts[2]
    summaries = set(Touchpoint.objects.for_org(org).values_list("summary", flat=True))
    assert summaries == {
        "First, cut off after the server saved it",
        "Second, answered 503 the first time",
    }
    console_errors[:] = [e for e in console_errors if not NETWORK_NOISE.match(e)]
    console_errors.assert_none()


def test_the_quick_log_opens_without_a_network(live_server, phone, console_errors, field):
    org, rep, _customer = field
    _ready(phone, live_server.url)
    # Created after the page was kept: a page from the server would offer it.
    make_customer(org, name="Zebra Newcomer", owner=rep)
    phone.context.set_offline(True)
    phone.goto(live_server.url + "/o/field-org/")  # My day is not kept: the quick log is
    assert phone.get_by_role("heading", name="Log a touchpoint").is_visible()
    customers = phone.get_by_label("Customer", exact=True).inner_text()
    assert "Basement Bakery" in customers and "Zebra Newcomer" not in customers
    phone.get_by_label("Customer", exact=True).select_option(label="Basement Bakery")
    _log(phone, "Logged from the kept page")
    phone.locator("[data-offline-note]").get_by_text("Saved on this phone.").wait_for()
    phone.context.set_offline(False)  # the kept page sends it itself
    _wait_sent(phone)
    assert Touchpoint.objects.for_org(org).get().summary == "Logged from the kept page"
    console_errors.assert_none()


def test_online_saves_go_through_the_outbox_and_show_in_place(
    live_server, page, console_errors, field
):
    org, _rep, customer = field
    log_in(page, live_server.url, "rep@field.test", "field-org")
    page.goto(f"{live_server.url}/o/field-org/customers/{customer.pk}/")
    page.evaluate("window.__sameDocument = true")
    keys = []
    page.on(
        "request",
        lambda r: r.method == "POST" and keys.append(r.headers.get("idempotency-key")),
    )
    for summary in ("First call of the day", "Second call of the day"):
        page.get_by_label("Summary").fill(summary)
        page.get_by_role("button", name="Log touchpoint", exact=True).click()
        page.locator("#timeline li").filter(has_text=summary).wait_for()
    page.get_by_role("button", name="Log touchpoint", exact=True).click()  # empty: refused
    page.get_by_text("This field is required.").first.wait_for()
    assert page.evaluate("window.__sameDocument") is True
    assert Touchpoint.objects.for_org(org).count() == 2
    assert len(keys) == 3 and len(set(keys)) == 3 and all(keys)
    assert page.locator("#outbox-status").is_hidden()
    console_errors.assert_none()
