"""The pages of business follow-up, as a member, a viewer and an outsider see them."""

from __future__ import annotations

import html
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from engagements.models import Customer, Engagement, Kpi, Touchpoint
from tests.engagements.factories import log, make_contact, make_customer, make_engagement
from tests.factories import MembershipFactory
from tests.utils import assert_constant_queries


@pytest.fixture
def manager_client(org):
    from django.test import Client

    client = Client()
    client.force_login(MembershipFactory(organization=org, role=Role.MANAGER).user)
    return client


def body(response) -> str:
    return response.content.decode()


# --- Roles -----------------------------------------------------------------------------


def test_a_member_sees_customers_and_can_log(member_client, org):
    customer = make_customer(org, name="Hangzhou Retail")
    page = body(member_client.get("/o/acme/customers/"))
    assert "Hangzhou Retail" in page
    assert "New customer" in page and "Log touchpoint" in page
    assert f"/o/acme/customers/{customer.pk}/" in page


def test_a_viewer_reads_but_never_writes(viewer_client, org):
    engagement = make_engagement(org, name="Five-year plan")
    log(org, engagement.customer, summary="Quarterly review")
    customer_page = body(viewer_client.get(f"/o/acme/customers/{engagement.customer_id}/"))
    assert "Quarterly review" in customer_page
    assert "Log touchpoint" not in customer_page and "New customer" not in customer_page
    engagement_page = body(viewer_client.get(f"/o/acme/engagements/{engagement.pk}/"))
    assert "Five-year plan" in engagement_page and "Add KPI" not in engagement_page
    for url in (
        "/o/acme/touchpoints/log/",
        "/o/acme/customers/new/",
        f"/o/acme/customers/{engagement.customer_id}/edit/",
        f"/o/acme/engagements/{engagement.pk}/edit/",
    ):
        assert viewer_client.get(url).status_code == 403
    response = viewer_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": engagement.customer_id, "channel": "call", "summary": "sneaky"},
    )
    assert response.status_code == 403
    assert not Touchpoint.objects.for_org(org).filter(summary="sneaky").exists()


def test_an_outsider_gets_404_everywhere(outsider_client, org):
    engagement = make_engagement(org)
    for url in (
        "/o/acme/customers/",
        f"/o/acme/customers/{engagement.customer_id}/",
        f"/o/acme/engagements/{engagement.pk}/",
        "/o/acme/touchpoints/log/",
    ):
        assert outsider_client.get(url).status_code == 404


def test_effort_is_for_managers(member_client, viewer_client, manager_client, org):
    assert member_client.get("/o/acme/effort/").status_code == 403
    assert viewer_client.get("/o/acme/effort/").status_code == 403
    assert manager_client.get("/o/acme/effort/").status_code == 200


def test_health_settings_are_changed_by_admins_only(member_client, owner_client, org):
    page = body(member_client.get("/o/acme/settings/health/"))
    assert "Only owners and admins" in page
    assert member_client.post("/o/acme/settings/health/", {}).status_code == 403
    values = {
        "amber_below": 75,
        "red_below": 45,
        "recency_red_ratio": 3,
        "window": 6,
        "weight_recency": 50,
        "weight_sentiment": 20,
        "weight_satisfaction": 10,
        "weight_overdue_followups": 10,
        "weight_open_risks": 10,
    }
    bad = owner_client.post("/o/acme/settings/health/", {**values, "red_below": 80})
    assert bad.status_code == 400 and "Red must start below amber" in body(bad)
    assert owner_client.post("/o/acme/settings/health/", values).status_code == 302
    org.refresh_from_db()
    assert org.settings["health"]["weight_recency"] == 50


# --- Customer list -----------------------------------------------------------------------


def test_the_list_searches_filters_and_sorts(member_client, org, member):
    make_customer(org, name="Shenzhen Software", industry="Software", owner=member, tier="key")
    make_customer(org, name="Ningbo Retail", industry="Retail", status="at_risk")
    red = make_engagement(org, started_on=timezone.localdate() - timedelta(days=120))
    page = body(member_client.get("/o/acme/customers/?q=soft"))
    assert "Shenzhen Software" in page and "Ningbo Retail" not in page
    page = body(member_client.get("/o/acme/customers/?status=at_risk"))
    assert "Ningbo Retail" in page and "Shenzhen Software" not in page
    page = body(member_client.get(f"/o/acme/customers/?owner={member.pk}&tier=key"))
    assert "Shenzhen Software" in page and "Ningbo Retail" not in page
    page = body(member_client.get("/o/acme/customers/?health=red"))
    assert red.customer.name in page and "Shenzhen Software" not in page
    page = body(member_client.get("/o/acme/customers/?sort=health"))
    assert page.index(red.customer.name) < page.index("Shenzhen Software")


def test_the_list_answers_htmx_with_the_results_only(member_client, org):
    make_customer(org, name="Tianjin Tools")
    response = member_client.get(
        "/o/acme/customers/?q=tian", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-results"
    )
    assert body(response).strip().startswith('<div id="customer-results">')
    assert "<html" not in body(response)


def test_a_bad_filter_value_is_ignored_not_an_error(member_client, org):
    make_customer(org, name="Kept")
    response = member_client.get("/o/acme/customers/?owner=not-a-uuid&sort=drop+table")
    assert response.status_code == 200 and "Kept" in body(response)


def test_export_follows_the_filters(member_client, org):
    make_customer(org, name="=HYPERLINK(evil)", status="churned", external_id="c-9")
    make_customer(org, name="Active One")
    response = member_client.get("/o/acme/customers/export.csv?status=churned")
    text = body(response)
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK(evil)" in text and "Active One" not in text
    assert text.splitlines()[0].startswith("name,external_id,industry")


def test_the_list_does_not_grow_queries_with_rows(member_client, org, member):
    def rows(n):
        for _ in range(n):
            make_engagement(org, customer=make_customer(org, owner=member))

    assert_constant_queries(rows, lambda: member_client.get("/o/acme/customers/"))


# --- Customer and engagement pages --------------------------------------------------------


def test_the_customer_page_shows_contacts_engagements_and_timeline(member_client, org):
    engagement = make_engagement(org, name="Regular check-ins")
    make_contact(org, customer=engagement.customer, name="Li Na", is_primary=True)
    log(org, engagement.customer, summary="Seasonal plan agreed")
    page = body(member_client.get(f"/o/acme/customers/{engagement.customer_id}/"))
    for text in ("Regular check-ins", "Li Na", "Primary", "Seasonal plan agreed"):
        assert text in page


def test_the_engagement_page_explains_health_and_shows_kpis(member_client, org, member):
    engagement = make_engagement(org, objective="Become the industry leader in five years")
    Kpi.objects.create(
        organization=org,
        engagement=engagement,
        name="Satisfaction",
        metric="satisfaction",
        target=4,
    )
    log(org, engagement.customer, satisfaction=5, sentiment=1, actor=member)
    page = body(member_client.get(f"/o/acme/engagements/{engagement.pk}/"))
    assert "Become the industry leader in five years" in page
    assert "Last touchpoint 0 days ago; the cadence is every 14 days." in page
    assert "On target" in page and "<svg" in page
    assert "No overdue" not in page  # counts are words, not placeholders
    assert "0 overdue follow-ups." in page


def test_kpis_are_added_edited_and_removed(member_client, org):
    engagement = make_engagement(org)
    url = f"/o/acme/engagements/{engagement.pk}/kpis/"
    response = member_client.post(url, {"name": "Renewal", "metric": "manual", "target": "100"})
    assert response.status_code == 302
    assert "current value" in body(member_client.get(response.url)).lower()
    assert not Kpi.objects.for_org(org).exists()  # manual KPI without a value is refused
    member_client.post(
        url, {"name": "Renewal", "metric": "manual", "target": "100", "manual_value": "80"}
    )
    kpi = Kpi.objects.for_org(org).get()
    member_client.post(
        f"/o/acme/kpis/{kpi.pk}/edit/",
        {"name": "Renewal value", "metric": "manual", "target": "100", "manual_value": "120"},
    )
    kpi.refresh_from_db()
    assert kpi.name == "Renewal value" and kpi.manual_value == 120
    member_client.post(f"/o/acme/kpis/{kpi.pk}/delete/")
    assert not Kpi.objects.for_org(org).exists()


def test_detail_pages_do_not_grow_queries_with_touchpoints(member_client, org, member):
    engagement = make_engagement(org)
    contact = make_contact(org, customer=engagement.customer)

    def rows(n):
        for _ in range(n):
            log(org, engagement.customer, actor=member, contacts=[contact], sentiment=1)

    assert_constant_queries(
        rows, lambda: member_client.get(f"/o/acme/engagements/{engagement.pk}/")
    )
    assert_constant_queries(
        rows, lambda: member_client.get(f"/o/acme/customers/{engagement.customer_id}/")
    )
    assert_constant_queries(rows, lambda: member_client.get("/o/acme/touchpoints/log/"))


def test_creating_customer_contact_and_engagement_from_pages(member_client, org, member):
    response = member_client.post(
        "/o/acme/customers/new/",
        {"name": "Suzhou Metals", "status": "active", "tier": "key", "currency": "CNY"},
    )
    customer = Customer.objects.for_org(org).get(name="Suzhou Metals")
    assert response.status_code == 302
    response = member_client.post(
        f"/o/acme/customers/{customer.pk}/contacts/new/", {"name": "Wang Fang", "email": "bad"}
    )
    assert response.status_code == 400 and "valid email" in body(response)
    member_client.post(f"/o/acme/customers/{customer.pk}/contacts/new/", {"name": "Wang Fang"})
    response = member_client.post(
        f"/o/acme/customers/{customer.pk}/engagements/new/",
        {
            "name": "Share of wallet",
            "status": "active",
            "started_on": "2026-01-05",
            "cadence_days": 21,
            "owner": member.pk,
            "team": [member.pk],
        },
    )
    engagement = Engagement.objects.for_org(org).get(name="Share of wallet")
    assert response.status_code == 302 and engagement.cadence_days == 21
    assert list(engagement.team.all()) == [member]


def test_a_duplicate_external_id_is_a_form_error(member_client, org):
    make_customer(org, external_id="crm-7")
    response = member_client.post(
        "/o/acme/customers/new/",
        {
            "name": "Copy",
            "status": "active",
            "tier": "key",
            "currency": "EUR",
            "external_id": "crm-7",
        },
    )
    assert response.status_code == 400
    assert Customer.objects.for_org(org).filter(external_id="crm-7").count() == 1


# --- Quick log ---------------------------------------------------------------------------


def test_quick_log_with_htmx_adds_the_entry_without_reload(member_client, org, member):
    engagement = make_engagement(org)
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": engagement.customer_id,
            "channel": "visit",
            "summary": "Plant tour",
            "keep_customer": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    page = body(response)
    assert response.status_code == 200 and "<html" not in page
    assert 'hx-swap-oob="afterbegin:#timeline"' in page and "Plant tour" in page
    assert 'id="quick-log"' in page  # a fresh form, the customer kept for the next entry
    tp = Touchpoint.objects.for_org(org).get()
    assert (tp.engagement, tp.channel, tp.logged_by) == (engagement, "visit", member)


def test_quick_log_errors_are_shown_inline(member_client, org):
    customer = make_customer(org)
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": customer.pk, "channel": "call", "summary": "", "sentiment": "7"},
        HTTP_HX_REQUEST="true",
    )
    page = body(response)
    assert response.status_code == 200  # htmx swaps 2xx only
    assert 'class="errorlist"' in page and "This field is required." in page
    assert not Touchpoint.objects.for_org(org).exists()


def test_quick_log_without_javascript_redirects_back(member_client, org):
    customer = make_customer(org)
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": customer.pk,
            "channel": "note",
            "summary": "Noted",
            "next": f"/o/acme/customers/{customer.pk}/",
        },
    )
    assert response.status_code == 302 and response.url == f"/o/acme/customers/{customer.pk}/"
    evil = member_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": customer.pk, "channel": "note", "summary": "x", "next": "https://evil.test/"},
    )
    assert evil.url == f"/o/acme/customers/{customer.pk}/"


def test_quick_log_searches_customers_and_offers_their_engagements(member_client, org):
    engagement = make_engagement(org, customer=make_customer(org, name="Qingdao Shipyards"))
    make_customer(org, name="Other Co")
    page = body(member_client.get("/o/acme/touchpoints/log/?q=qingdao", HTTP_HX_REQUEST="true"))
    assert "Qingdao Shipyards" in page and "Other Co" not in page
    page = body(member_client.get(f"/o/acme/touchpoints/log/?customer={engagement.customer_id}"))
    assert engagement.name in page


def test_a_touchpoint_at_2330_in_shanghai_lands_on_that_local_day(client, org):
    rep = MembershipFactory(organization=org, role=Role.MEMBER, user__timezone="Asia/Shanghai").user
    client.force_login(rep)
    customer = make_customer(org)
    client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": customer.pk,
            "channel": "call",
            "summary": "Late call",
            "occurred_at": "2026-03-01T23:30",
        },
    )
    tp = Touchpoint.objects.for_org(org).get()
    assert tp.occurred_at == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    page = body(client.get(f"/o/acme/customers/{customer.pk}/"))
    assert "2026-03-01 23:30" in page
    # The effort report counts months in the organization's time zone.
    org.timezone = "Asia/Shanghai"
    org.save()
    log(org, customer, occurred_at=datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # 1 April, 00:30
    from engagements.selectors import effort_report

    march = effort_report(org, datetime(2026, 3, 1).date())
    assert sum(row["touches"] for row in march.by_customer) == 1


# --- Effort --------------------------------------------------------------------------------


def test_effort_shows_time_per_customer_rep_and_month(manager_client, org, member):
    busy = make_engagement(org, customer=make_customer(org, name="Busy Retail"))
    quiet = make_engagement(org, name="Forgotten account")
    log(org, busy.customer, actor=member, effort_minutes=90)
    log(org, quiet.customer, occurred_at=timezone.now() - timedelta(days=40))
    page = body(manager_client.get("/o/acme/effort/"))
    assert "Busy Retail" in page and "1.5" in page
    assert member.name in page
    assert "Forgotten account" in page  # active, nothing this month
    assert manager_client.get("/o/acme/effort/?month=garbage").status_code == 200


def test_effort_queries_do_not_grow_with_rows(manager_client, org, member):
    def rows(n):
        for _ in range(n):
            log(org, make_engagement(org).customer, actor=member, effort_minutes=10)

    assert_constant_queries(rows, lambda: manager_client.get("/o/acme/effort/"))


def test_the_cached_effort_report_sees_a_new_touchpoint(
    manager_client, org, member, django_capture_on_commit_callbacks
):
    engagement = make_engagement(org, customer=make_customer(org, name="Cached Co"))
    assert "Cached Co" not in body(manager_client.get("/o/acme/effort/")).split("Per rep")[0]
    with django_capture_on_commit_callbacks(execute=True):
        log(org, engagement.customer, actor=member, effort_minutes=30)
    assert "Cached Co" in body(manager_client.get("/o/acme/effort/")).split("Per rep")[0]


def test_quick_log_offers_engagements_only_for_the_chosen_customer(member_client, org):
    first = make_engagement(org, name="First engagement")
    make_engagement(org, name="Someone else's engagement")
    page = body(member_client.get("/o/acme/touchpoints/log/"))
    assert "Choose a customer first" in page and "First engagement" not in page
    page = body(member_client.get(f"/o/acme/touchpoints/log/?customer={first.customer_id}"))
    assert "First engagement" in page and "Someone else" not in page


def test_the_timeline_pages_back_through_older_touchpoints(member_client, org):
    engagement = make_engagement(org)
    start = timezone.now() - timedelta(days=100)
    for n in range(25):
        log(
            org,
            engagement.customer,
            summary=f"Entry {n:02d}",
            occurred_at=start + timedelta(days=n),
        )
    url = f"/o/acme/engagements/{engagement.pk}/"
    first = body(member_client.get(url))
    assert "Entry 24" in first and "Entry 04" not in first and "Older touchpoints" in first
    href = html.unescape(first.split('href="?before=')[1].split('"')[0])
    before = urllib.parse.unquote(href)
    second = body(member_client.get(url, {"before": before})).split('id="timeline"')[1]
    assert "Entry 04" in second and "Entry 00" in second
    assert "Entry 05" not in second and "Entry 24" not in second
    assert member_client.get(url, {"before": "2026-13-45T99:00"}).status_code == 200


def test_effort_opens_on_the_month_before_while_nothing_is_logged_this_month(
    manager_client, org, member
):
    """Issue 11, defect 11: /effort/ opened on an empty current month on the 1st."""
    engagement = make_engagement(org)
    first_of_month = timezone.localtime().replace(day=1, hour=12, minute=0)
    log(
        org,
        engagement.customer,
        actor=member,
        occurred_at=first_of_month - timedelta(days=2),
        effort_minutes=90,
    )
    page = html.unescape(manager_client.get("/o/acme/effort/").content.decode())
    previous = (first_of_month - timedelta(days=2)).strftime("%Y-%m")
    assert f'value="{previous}"' in page
    assert "yet: showing" in page
    assert engagement.customer.name in page
    # Asked for by name, the current month is shown as it is.
    current = manager_client.get(f"/o/acme/effort/?month={first_of_month:%Y-%m}")
    assert f'value="{first_of_month:%Y-%m}"' in current.content.decode()


def test_your_latest_touchpoints_are_in_the_order_they_happened(member_client, org, member):
    """Issue 11, defect 11: the list was sorted by when each was entered."""
    customer = make_customer(org, name="Lumen Retail Group")
    now = timezone.now()
    log(org, customer, actor=member, summary="Visited today", occurred_at=now)
    log(org, customer, actor=member, summary="Call last week", occurred_at=now - timedelta(days=7))
    log(org, customer, actor=member, summary="Mail yesterday", occurred_at=now - timedelta(days=1))
    page = member_client.get("/o/acme/touchpoints/log/").content.decode()
    order = [page.index(s) for s in ("Visited today", "Mail yesterday", "Call last week")]
    assert order == sorted(order)
