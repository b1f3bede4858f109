"""Every list sorts by its column headers (a whitelisted ``?sort=``, ``-`` for descending,
``aria-sort`` on the header) and keeps a person's saved views."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from followup.engine import lists, notifications
from followup.engine import services as followup_services
from followup.engine.models import SavedFilter
from followup.kernel import sorting
from tests.engagements.factories import make_customer
from tests.utils import assert_constant_queries


def _make_followup(org, owner, title, due_in_hours):
    return followup_services.followup_create(
        org=org,
        actor=owner,
        title=title,
        owner=owner,
        due_at=timezone.now() + timedelta(hours=due_in_hours),
    )


def _order(body: str, names: list[str]) -> list[str]:
    return sorted(names, key=body.index)


def _header(body: str, label: str) -> str:
    match = re.search(r"<th[^>]*>(?:(?!</th>).)*" + re.escape(label) + r".*?</th>", body, re.S)
    assert match, f"no header {label}"
    return match.group(0)


# --- Sorting ---------------------------------------------------------------------------------


def test_the_whitelist_decides_and_falls_back():
    orders = {"due": ("due_at",), "-due": ("-due_at",)}
    assert sorting.choose("-due", orders, "due").order_by == ("-due_at",)
    assert sorting.choose("password", orders, "due").param == "due"
    assert sorting.choose(None, orders, "due").param == "due"
    assert sorting.toggled("due", "due") == "-due"
    assert sorting.toggled("-due", "due") == "due"
    assert sorting.toggled("due", "title") == "title"
    assert sorting.toggled("due", "value", first="desc") == "-value"
    with pytest.raises(KeyError):
        sorting.choose("x", orders, "nope")


def test_follow_up_list_sorts_by_its_headers(member_client, org, member):
    for title, hours in (("Bravo", 3), ("Alpha", 2), ("Charlie", 1)):
        _make_followup(org, member, title, hours)
    names = ["Alpha", "Bravo", "Charlie"]
    body = member_client.get("/o/acme/followups/").content.decode()
    assert _order(body, names) == ["Charlie", "Alpha", "Bravo"]  # default: due soonest
    assert 'aria-sort="ascending"' in _header(body, "Due")
    body = member_client.get("/o/acme/followups/?sort=-title").content.decode()
    assert _order(body, names) == ["Charlie", "Bravo", "Alpha"]
    header = _header(body, "Follow-up")
    assert 'aria-sort="descending"' in header and "sort=title" in header
    assert "aria-sort" not in _header(body, "Due")
    # A value outside the whitelist is the default order, never an error.
    assert member_client.get("/o/acme/followups/?sort=owner__password").status_code == 200


def test_header_links_keep_the_filters(member_client, org, member):
    body = member_client.get("/o/acme/followups/?who=all&status=open&page=3").content.decode()
    link = re.search(r'href="\?([^"]*sort=title[^"]*)"', body).group(1)
    assert "who=all" in link and "status=open" in link and "page" not in link


def test_customer_list_sorts_by_every_column(member_client, org, owner, member):
    make_customer(org, name="Zeta", status="churned", tier="small", owner=member)
    make_customer(org, name="Alpha", status="prospect", tier="strategic", owner=owner)
    make_customer(org, name="Mid", status="active", tier="key", annual_value=900)
    names = ["Zeta", "Alpha", "Mid"]

    def order(sort: str) -> list[str]:
        response = member_client.get("/o/acme/customers/", {"sort": sort})
        assert response.status_code == 200
        return _order(response.content.decode(), names)

    assert order("name") == ["Alpha", "Mid", "Zeta"]
    assert order("-name") == ["Zeta", "Mid", "Alpha"]
    assert order("status") == ["Alpha", "Mid", "Zeta"]  # prospect, active, churned
    assert order("-tier") == ["Zeta", "Mid", "Alpha"]  # small, key, strategic
    assert order("-value")[0] == "Mid"
    body = member_client.get("/o/acme/customers/?sort=-status").content.decode()
    assert 'aria-sort="descending"' in _header(body, "Status")


def test_team_view_and_notifications_sort(owner_client, org, owner, member):
    _make_followup(org, member, "Older overdue", -5)
    _make_followup(org, member, "Newer overdue", -1)
    body = owner_client.get("/o/acme/team/?sort=-due").content.decode()
    assert _order(body, ["Older overdue", "Newer overdue"]) == ["Newer overdue", "Older overdue"]
    assert 'aria-sort="descending"' in _header(body, "Due")
    for title in ("first note", "second note"):
        notifications.notify(
            org=org,
            recipients=[owner],
            kind="followup.assigned",
            params={"title": title, "by": "x"},
            email=False,
        )
    body = owner_client.get("/o/acme/notifications/").content.decode()
    assert _order(body, ["first note", "second note"]) == ["second note", "first note"]
    body = owner_client.get("/o/acme/notifications/?sort=when").content.decode()
    assert _order(body, ["first note", "second note"]) == ["first note", "second note"]


def test_sorted_lists_keep_constant_queries(member_client, org, member):
    def followups(n: int) -> None:
        for i in range(n):
            _make_followup(org, member, f"Row {i}", i + 1)

    def customers(n: int) -> None:
        for _ in range(n):
            make_customer(org, owner=member)

    assert_constant_queries(
        followups, lambda: member_client.get("/o/acme/followups/?sort=-owner&who=all")
    )
    assert_constant_queries(customers, lambda: member_client.get("/o/acme/customers/?sort=owner"))


# --- Saved views --------------------------------------------------------------------------------


def test_save_list_and_delete_a_view(member_client, org, member):
    response = member_client.post(
        "/o/acme/saved-views/",
        {"list": "customers", "name": "  Red  ones ", "query": "health=red&sort=-value&page=2&q="},
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/customers/?health=red&sort=-value"
    saved = SavedFilter.objects.for_org(org).get()
    assert (saved.user, saved.list_key, saved.name, saved.query) == (
        member,
        "customers",
        "Red ones",
        "health=red&sort=-value",
    )
    body = member_client.get("/o/acme/customers/?health=red&sort=-value").content.decode()
    assert 'href="/o/acme/customers/?health=red&amp;sort=-value" aria-current="true">Red ones' in (
        body
    )
    # The same name again replaces the view instead of adding one.
    member_client.post(
        "/o/acme/saved-views/", {"list": "customers", "name": "Red ones", "query": "health=red"}
    )
    assert SavedFilter.objects.for_org(org).get().query == "health=red"
    response = member_client.post(
        f"/o/acme/saved-views/{saved.pk}/delete/", {"next": "/o/acme/customers/?health=red"}
    )
    assert response["Location"] == "/o/acme/customers/?health=red"
    assert not SavedFilter.objects.for_org(org).exists()


def test_views_are_personal(member_client, owner_client, org, member):
    saved = lists.saved_filter_save(
        org=org, user=member, list_key="followups", name="Member private view", query="who=mine"
    )
    assert "Member private view" not in owner_client.get("/o/acme/followups/").content.decode()
    assert owner_client.post(f"/o/acme/saved-views/{saved.pk}/delete/").status_code == 404
    assert SavedFilter.objects.for_org(org).filter(pk=saved.pk).exists()


def test_viewers_keep_views_and_bad_input_is_refused(viewer_client, org):
    assert (
        viewer_client.post(
            "/o/acme/saved-views/", {"list": "team", "name": "Mine", "query": "sort=-due"}
        ).status_code
        == 302
    )
    assert (
        viewer_client.post(
            "/o/acme/saved-views/", {"list": "nope", "name": "x", "query": ""}
        ).status_code
        == 400
    )
    response = viewer_client.post(
        "/o/acme/saved-views/", {"list": "team", "name": "   ", "query": "sort=-due"}, follow=True
    )
    assert "Give the view a name." in response.content.decode()
    assert SavedFilter.objects.for_org(org).count() == 1


def test_every_list_offers_saved_views(owner_client):
    for path in (
        "/o/acme/followups/",
        "/o/acme/customers/",
        "/o/acme/team/",
        "/o/acme/notifications/",
    ):
        body = owner_client.get(path).content.decode()
        assert "Save this view" in body, path


def test_the_saved_query_is_cleaned():
    assert lists.clean_query("a=1&page=4&b=&csrfmiddlewaretoken=x&c=2&c=3") == "a=1&c=2&c=3"
