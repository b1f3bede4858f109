"""Search everywhere: one box over customers, contacts, engagements and follow-ups (and any
kind an app registers), scoped to the organization, one query per kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements.models import Customer
from followup.engine import services as followup_services
from followup.kernel import search
from followup.kernel.search import Result
from tests.engagements.factories import make_contact, make_customer, make_engagement
from tests.utils import assert_constant_queries, count_queries

URL = "/o/acme/search/"
DROPDOWN = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "site-search-pop"}


@pytest.fixture
def world(org, member):
    lumen = make_customer(org, name="Lumen Retail Group", industry="Retail")
    make_contact(org, customer=lumen, name="Ann Lumenberg", email="ann@lumen.test")
    make_engagement(org, customer=lumen, name="Lumen store roll-out")
    followup_services.followup_create(
        org=org,
        actor=member,
        title="Send Lumen the price list",
        owner=member,
        due_at=timezone.now() + timedelta(days=1),
    )
    return lumen


def _groups(response) -> dict[str, list[str]]:
    return {g.key: [r.title for r in g.results] for g in response.context["groups"]}


def test_it_finds_every_kind_grouped(member_client, world):
    response = member_client.get(URL, {"q": "lumen"})
    assert response.status_code == 200
    groups = _groups(response)
    assert list(groups) == ["customers", "contacts", "engagements", "followups"]
    assert groups["customers"] == ["Lumen Retail Group"]
    assert groups["contacts"] == ["Ann Lumenberg"]
    assert groups["engagements"] == ["Lumen store roll-out"]
    assert groups["followups"] == ["Send Lumen the price list"]
    body = response.content.decode()
    assert f'href="/o/acme/customers/{world.pk}/"' in body


def test_prefix_matches_come_first(member_client, org):
    for name in ("Big Retail", "Retailers United", "Northern retail partners", "Retail Hub"):
        make_customer(org, name=name)
    titles = _groups(member_client.get(URL, {"q": "retail"}))["customers"]
    # Names that start with the query, then names with a word that does, then the rest.
    assert titles[:2] == ["Retail Hub", "Retailers United"]
    assert set(titles[2:]) == {"Big Retail", "Northern retail partners"}


def test_every_word_must_match(member_client, org):
    make_customer(org, name="Lumen Retail Group")
    make_customer(org, name="Lumen Logistics")
    assert _groups(member_client.get(URL, {"q": "retail lumen"}))["customers"] == [
        "Lumen Retail Group"
    ]


def test_it_finds_contacts_by_email_and_customers_by_crm_id(member_client, org):
    customer = make_customer(org, name="Huaxin Precision", external_id="CRM-77")
    make_contact(org, customer=customer, name="Wang Li", email="wang.li@huaxin.test")
    assert _groups(member_client.get(URL, {"q": "huaxin.test"}))["contacts"] == ["Wang Li"]
    assert _groups(member_client.get(URL, {"q": "CRM-77"}))["customers"] == ["Huaxin Precision"]


def test_one_character_is_too_short_unless_it_is_not_ascii(member_client, org):
    make_customer(org, name="李记贸易")
    response = member_client.get(URL, {"q": "l"})
    assert response.context["groups"] == [] and response.context["too_short"]
    assert _groups(member_client.get(URL, {"q": "李"}))["customers"] == ["李记贸易"]


def test_search_is_scoped_to_the_organization(member_client, outsider_client, org, other_org):
    make_customer(org, name="Acme secret customer")
    make_customer(other_org, name="Globex visible customer")
    mine = member_client.get(URL, {"q": "customer"})
    assert _groups(mine)["customers"] == ["Acme secret customer"]
    theirs = outsider_client.get("/o/globex/search/", {"q": "secret"})
    assert theirs.context["groups"] == []
    assert "Acme secret" not in theirs.content.decode()
    assert outsider_client.get(URL, {"q": "secret"}).status_code == 404


def test_search_takes_one_query_per_kind_however_many_it_finds(member_client, org, member):
    def make_rows(n: int) -> None:
        for _ in range(n):
            customer = make_customer(org, name=f"Match customer {Customer.objects.count()}")
            make_contact(org, customer=customer, name=f"Match contact {customer.pk}")
            make_engagement(org, customer=customer, name=f"Match engagement {customer.pk}")
            followup_services.followup_create(
                org=org,
                actor=member,
                title=f"Match follow-up {customer.pk}",
                owner=member,
                due_at=timezone.now() + timedelta(days=1),
            )

    queries = assert_constant_queries(make_rows, lambda: member_client.get(URL, {"q": "match"}))
    # Session, user, membership, then one per kind.
    base, _response = count_queries(lambda: member_client.get(URL, {"q": "zzzz-nothing"}))
    assert queries == base


def test_the_dropdown_is_a_listbox_partial(member_client, world):
    response = member_client.get(URL, {"q": "lumen"}, **DROPDOWN)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'role="listbox"' in body and body.count('role="option"') == 5  # 4 results + "all"
    assert 'role="group"' in body and "All results for" in body
    assert response["Cache-Control"] == "private, no-store"


def test_the_dropdown_says_when_nothing_matches(member_client, world):
    body = member_client.get(URL, {"q": "nothing-like-this"}, **DROPDOWN).content.decode()
    assert "Nothing found for" in body


def test_viewers_search_too(viewer_client, world):
    assert _groups(viewer_client.get(URL, {"q": "lumen"}))["customers"] == ["Lumen Retail Group"]


def test_the_header_has_the_search_box(member_client, world):
    body = member_client.get("/o/acme/customers/").content.decode()
    assert 'id="site-search-q"' in body and 'role="combobox"' in body
    assert 'action="/o/acme/search/"' in body


def test_a_kind_registered_later_is_searched_and_capabilities_are_honoured(
    member_client, viewer_client, world
):
    def find(org, user, query, limit):
        return [Result(kind="projects", title=f"Project {query}", subtitle="", url="/p/")]

    search.register("projects", "Projects", find, capability="records.edit", order=50)
    try:
        assert _groups(member_client.get(URL, {"q": "lumen"}))["projects"] == ["Project lumen"]
        assert "projects" not in _groups(viewer_client.get(URL, {"q": "lumen"}))
    finally:
        search.unregister("projects")


def test_the_query_is_cleaned():
    assert search.clean("  lumen \n retail  ") == "lumen retail"
    assert len(search.clean("x" * 500)) == search.MAX_QUERY
    assert search.words("a b c d e f g") == ["a", "b", "c", "d", "e"]


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql", reason="trigram indexes"
)
def test_postgres_answers_search_from_the_trigram_indexes(org, member):
    """The indexes match the SQL that ``icontains`` produces (UPPER(col::text) LIKE ...).

    Asked across organizations (the organization index would otherwise do on a tiny
    table): the planner must be able to answer the match from the trigram index alone."""
    from django.db import connection

    from engagements.models import Contact, Engagement
    from followup.engine.models import FollowUp

    make_customer(org, name="Lumen Retail Group")
    cases = [
        (Customer, "name", "customer_name_trgm"),
        (Contact, "email", "contact_email_trgm"),
        (Engagement, "name", "engagement_name_trgm"),
        (FollowUp, "title", "followup_title_trgm"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for model, field, index in cases:
            queryset = model.objects.dangerously_unscoped().filter(
                search.matching("lumen", [field])
            )
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert index in plan, plan
