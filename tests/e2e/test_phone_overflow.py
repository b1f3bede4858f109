"""Every page of the demo fits a 375 px phone, in English and in 中文 (issue 11, defect 4:
team, notifications, members and customers ran off the screen, and three of seven links of
the main navigation were hidden without a hint). And at 1280 px the English header keeps
one row with the organization's name in full."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Organization, User
from engagements.models import Customer, Engagement
from followup.engine.models import FollowUp
from projects.models import Project, WorkItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIST_PAGES = [
    ("home", {}),
    ("followup:list", {}),
    ("followup:team", {}),
    ("followup:notifications", {}),
    ("followup:preferences", {}),
    ("followup:calendar", {}),
    ("followup:create", {}),
    ("followup:webhooks", {}),
    ("followup:event_deliveries", {}),
    ("engagements:customer_list", {}),
    ("engagements:customer_create", {}),
    ("engagements:quick_log", {}),
    ("engagements:effort", {}),
    ("engagements:imports", {}),
    ("engagements:health_settings", {}),
    ("projects:project_list", {}),
    ("projects:templates", {}),
    ("projects:calendar", {}),
    ("accounts:members", {}),
    ("accounts:organization_settings", {}),
    ("accounts:api_keys", {}),
    ("accounts:audit_log", {}),
]
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const over = [];
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) over.push('document ' + scroll);
  for (const el of document.querySelectorAll('main *, header *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    let scroller = el.parentElement, inScroller = false;
    while (scroller) {
      const x = getComputedStyle(scroller).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden') { inScroller = true; break; }
      scroller = scroller.parentElement;
    }
    if (!inScroller && box.right > width + 1) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      over.push(name + '.' + el.className + ' ' + Math.round(box.right));
      if (over.length > 5) break;
    }
  }
  return over;
}"""


def _demo_pages() -> tuple[Organization, list[str]]:
    call_command("seed_demo", "--password", "followup-demo", verbosity=0)
    org = Organization.objects.get(slug="demo")

    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": org.slug, **kwargs})

    pages = [url(name, **kwargs) for name, kwargs in LIST_PAGES]
    pages.append(url("followup:search") + "?q=a")
    pages += [url("engagements:customer_detail", pk=c.pk) for c in Customer.objects.for_org(org)]
    pages += [
        url("engagements:engagement_detail", pk=e.pk) for e in Engagement.objects.for_org(org)
    ]
    pages += [url("followup:detail", pk=f.pk) for f in FollowUp.objects.for_org(org)[:12]]
    for project in Project.objects.for_org(org):
        pages += [
            url("projects:project_detail", pk=project.pk),
            url("projects:wbs", pk=project.pk),
            url("projects:gantt", pk=project.pk),
        ]
    pages += [url("projects:work_item_detail", pk=w.pk) for w in WorkItem.objects.for_org(org)[:6]]
    return org, pages


def _log_in(page, base_url: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("E-mail").fill("owner@demo.followup.test")
    page.get_by_label("Password").fill("followup-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda u: "/login/" not in u)


def test_no_page_of_the_demo_overflows_a_phone_in_either_language(
    live_server, phone, console_errors
):
    _org, pages = _demo_pages()
    _log_in(phone, live_server.url)
    owner = User.objects.get(email="owner@demo.followup.test")
    overflowing = {}
    for language in ("en", "zh-hans"):
        owner.language = language
        owner.save(update_fields=["language"])
        for path in pages:
            response = phone.goto(live_server.url + path)
            assert response is not None and response.status < 400, (
                path,
                response and response.status,
            )
            over = phone.evaluate(OVERFLOW)
            if over:
                overflowing[f"{language} {path}"] = over
    assert overflowing == {}, overflowing
    console_errors.assert_none()


def test_the_more_menu_reaches_the_team_pages_on_a_phone(live_server, phone, console_errors):
    _demo_pages()
    _log_in(phone, live_server.url)
    nav = phone.get_by_role("navigation", name="Main")
    more = nav.get_by_text("More", exact=True)
    assert more.is_visible()
    more.click()
    for name in ("Team", "Effort", "Members", "Settings"):
        assert nav.get_by_role("link", name=name).is_visible(), name
    nav.get_by_role("link", name="Members").click()
    phone.wait_for_url(lambda u: u.endswith("/members/"))
    console_errors.assert_none()


def test_the_english_header_keeps_one_row_at_1280(live_server, page, console_errors):
    org, _pages = _demo_pages()
    _log_in(page, live_server.url)
    header = page.locator("header.topbar")
    brand = page.locator(".topbar .brand").bounding_box()
    box = header.bounding_box()
    assert brand is not None and box is not None
    assert box["height"] < brand["height"] * 2 + 24, box  # one row of controls
    name = page.locator(".org-switcher > summary")
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth"), "the organization name is cut"
    assert org.name in name.inner_text()
    console_errors.assert_none()


# Every list table reads as stacked cards on a phone (issue 11: the members page's role and
# Leave/Remove buttons were off-screen until the table was scrolled sideways).
TABLES_FIT = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const wrap of document.querySelectorAll('.table-wrap, .table-scroll')) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const th = wrap.querySelector('th');
      bad.push('scrolls ' + wrap.scrollWidth + '>' + wrap.clientWidth + ' ['
               + (th ? th.textContent.trim().slice(0, 20) : '') + ']');
    }
  }
  const controls = ['a', 'button', 'input', 'select', 'textarea', 'summary']
    .map(tag => 'table ' + tag).join(', ');
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2 || getComputedStyle(el).visibility === 'hidden') continue;
    if (box.left < -1 || box.right > width + 1) {
      const name = (el.textContent || el.getAttribute('name') || '').trim().slice(0, 24);
      bad.push(el.tagName.toLowerCase() + ' "' + name + '" ' + Math.round(box.left) + '..'
               + Math.round(box.right));
    }
    if (bad.length > 8) break;
  }
  return bad;
}"""
PROJECT_TABLE_PAGES = [
    "projects:budget",
    "projects:change_requests",
    "projects:earned_value",
    "projects:report_list",
    "risks:fmea",
    "risks:project_reviews",
]
ORG_TABLE_PAGES = ["risks:list", "projects:resource_list", "projects:resource_load"]


def test_every_table_of_the_demo_reads_on_a_phone_without_scrolling_sideways(
    live_server, phone, console_errors
):
    org, pages = _demo_pages()

    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": org.slug, **kwargs})

    pages += [url(name) for name in ORG_TABLE_PAGES]
    for project in Project.objects.for_org(org):
        pages += [url(name, pk=project.pk) for name in PROJECT_TABLE_PAGES]
    _log_in(phone, live_server.url)
    owner = User.objects.get(email="owner@demo.followup.test")
    failing, with_tables = {}, 0
    for language in ("en", "zh-hans"):
        owner.language = language
        owner.save(update_fields=["language"])
        for path in pages:
            response = phone.goto(live_server.url + path)
            assert response is not None and response.status < 400, (path, response.status)
            with_tables += phone.locator("table").count() > 0
            bad = phone.evaluate(TABLES_FIT)
            if bad:
                failing[f"{language} {path}"] = bad
    assert with_tables > 40  # the walk saw the product's tables, not empty pages
    assert failing == {}, failing
    console_errors.assert_none()
