"""Click-to-call: tel: addresses and readable numbers (a pure module, no database)."""

from __future__ import annotations

import pytest

from engagements.calc import phone


@pytest.mark.parametrize(
    ("raw", "uri"),
    [
        ("+49 30 1234567", "tel:+49301234567"),
        ("(0)30-123 45 67", "tel:0301234567"),
        ("0049 30 1234567", "tel:+49301234567"),
        ("+1 (415) 555-2671 ext. 12", "tel:+14155552671;ext=12"),
        ("13800138000", "tel:13800138000"),
        ("", ""),
        ("n/a", ""),
    ],
)
def test_tel_uri(raw, uri):
    assert phone.tel_uri(raw) == uri


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("+8613800138000", "+86 138 0013 8000"),
        ("+14155552671", "+1 415 555 2671"),
        ("+49301234567", "+49 30 123 4567"),
        ("+4915112345678", "+49 151 1234 5678"),
        ("013800138000", "01 380 013 8000"),
        ("12345678", "1234 5678"),
        ("+49 30 1234567", "+49 30 1234567"),  # the writer's grouping stays
        ("  0 30  123 ", "0 30 123"),
        ("+14155552671 x7", "+1 415 555 2671 ext. 7"),
        ("12", "12"),
    ],
)
def test_display(raw, shown):
    assert phone.display(raw) == shown


# --- On the pages ---------------------------------------------------------------------------


@pytest.fixture
def contact(org):
    from tests.engagements.factories import make_contact, make_customer, make_engagement

    customer = make_customer(org, name="Lumen Retail Group")
    make_engagement(org, customer=customer, name="Retail roll-out")
    return make_contact(
        org, customer=customer, name="Ann Lee", phone="+8613800138000", email="ann@lumen.test"
    )


def test_contacts_can_be_called_and_mailed_from_every_page(member_client, contact):
    prompt = (
        f"/o/acme/touchpoints/log/?customer={contact.customer_id}&amp;contacts={contact.pk}"
        "&amp;channel=call"
    )
    engagement = contact.customer.engagements.get()
    for path in (
        f"/o/acme/customers/{contact.customer_id}/",
        f"/o/acme/engagements/{engagement.pk}/",
        f"/o/acme/contacts/{contact.pk}/edit/",
    ):
        body = member_client.get(path).content.decode()
        assert 'href="tel:+8613800138000"' in body, path
        assert "+86 138 0013 8000" in body and 'href="mailto:ann@lumen.test"' in body, path
        assert f'data-call-prompt="{prompt}"' in body and 'data-call-name="Ann Lee"' in body
        assert "(call Ann Lee)" in body


def test_the_prompt_opens_the_quick_log_set_up_for_the_call(member_client, contact):
    response = member_client.get(
        "/o/acme/touchpoints/log/",
        {"customer": str(contact.customer_id), "contacts": str(contact.pk), "channel": "call"},
    )
    form = response.context["form"]
    assert str(form["customer"].value()) == str(contact.customer_id)
    assert form["channel"].value() == "call"
    assert [str(v) for v in form["contacts"].value()] == [str(contact.pk)]
    body = response.content.decode()
    assert f'value="{contact.pk}"' in body and "checked" in body


def test_the_engagement_page_keeps_constant_queries_with_contacts(member_client, org, contact):
    from tests.engagements.factories import make_contact
    from tests.utils import assert_constant_queries

    engagement = contact.customer.engagements.get()

    def make_rows(n):
        for i in range(n):
            make_contact(org, customer=contact.customer, name=f"Person {i}", phone=f"+4930{i:06d}")

    assert_constant_queries(
        make_rows, lambda: member_client.get(f"/o/acme/engagements/{engagement.pk}/")
    )
