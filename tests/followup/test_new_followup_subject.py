"""New follow-up shows and lets you choose what it is about (issue 11, defect 5: from a
customer page it showed no sign of the customer and Cancel returned to My day; from My day
there was no customer/engagement picker)."""

from __future__ import annotations

import html
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from followup.engine.models import FollowUp
from tests.engagements.factories import make_customer, make_engagement


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": "acme", **kwargs})


def _post(client, **extra):
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"title": "Send the quote", "due": due, "priority": 2, "reminders": [0], "ends": "never"}
    return client.post(url("followup:create"), {**data, **extra})


def test_from_a_customer_page_the_form_names_the_customer_and_cancel_goes_back(
    member_client, member, org
):
    customer = make_customer(org, name="Huaxin Precision")
    customer_page = member_client.get(url("engagements:customer_detail", pk=customer.pk))
    link = html.unescape(customer_page.content.decode())
    assert f"subject_type=customer&subject_id={customer.pk}" in link
    page = html.unescape(
        member_client.get(
            url("followup:create"), {"subject_type": "customer", "subject_id": customer.pk}
        ).content.decode()
    )
    assert "Huaxin Precision" in page
    customer_url = url("engagements:customer_detail", pk=customer.pk)
    assert f'<a class="button" href="{customer_url}">Cancel</a>' in page


def test_from_my_day_the_form_offers_this_organizations_subjects(
    member_client, member, org, other_org
):
    engagement = make_engagement(org, name="Five-year plan")
    make_customer(other_org, name="Globex Secret Customer")
    page = html.unescape(member_client.get(url("followup:create")).content.decode())
    assert 'name="about"' in page
    assert engagement.customer.name in page and "Five-year plan" in page
    assert "Globex Secret Customer" not in page
    assert f'<a class="button" href="{url("home")}">Cancel</a>' in page

    response = _post(member_client, owner=member.pk, about=f"engagement:{engagement.pk}")
    assert response.status_code == 302, response.content.decode()[:1500]
    saved = FollowUp.objects.for_org(org).get()
    assert saved.subject_id == engagement.pk


def test_another_organizations_subject_cannot_be_chosen(member_client, member, org, other_org):
    foreign = make_customer(other_org, name="Globex Secret Customer")
    response = _post(member_client, owner=member.pk, about=f"customer:{foreign.pk}")
    assert response.status_code == 400
    assert not FollowUp.objects.for_org(org).exists()


def test_the_picker_costs_one_query_per_subject_type(
    member_client, org, django_assert_max_num_queries
):
    for n in range(30):
        make_customer(org, name=f"Customer {n}")
    with django_assert_max_num_queries(30):
        assert member_client.get(url("followup:create")).status_code == 200
