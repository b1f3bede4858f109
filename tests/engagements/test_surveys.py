"""Satisfaction surveys: the link is signed, expiring and single-use; the answer becomes a
touchpoint's satisfaction, in the contact's language; sending is throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from engagements import surveys
from engagements.models import SurveyRequest, Touchpoint
from tests.engagements.factories import make_contact, make_customer, make_engagement
from tests.projects.factories import fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org):
    customer = make_customer(org, name="Alpha Retail")
    make_engagement(org, customer=customer)
    return make_contact(org, customer=customer, name="Mei", email="mei@example.com")


def send(org, member, contact, **kw):
    return surveys.survey_send(org=org, actor=member, contact=contact, **kw)


def url(survey):
    return surveys.public_url(survey)


def test_the_answer_becomes_the_touchpoints_satisfaction(client, org, member, contact):
    survey = send(org, member, contact)
    page = client.get(url(survey))
    assert page.status_code == 200
    response = client.post(url(survey), {"csat": "2", "nps": "6", "comment": "Late deliveries"})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    touchpoint = Touchpoint.objects.for_org(org).get(customer=contact.customer)
    assert touchpoint.satisfaction == 2
    assert touchpoint.outcome == "Late deliveries"
    assert list(touchpoint.contacts.all()) == [contact]
    survey = fresh(survey)
    assert (survey.csat, survey.nps, survey.touchpoint_id) == (2, 6, touchpoint.pk)


def test_the_link_is_single_use(client, org, member, contact):
    survey = send(org, member, contact)
    assert client.post(url(survey), {"csat": "5"}).status_code == 200
    second = client.post(url(survey), {"csat": "1"})
    assert second.status_code == 410
    assert "answered already" in second.content.decode()
    assert Touchpoint.objects.for_org(org).count() == 1
    assert fresh(survey).csat == 5
    with pytest.raises(surveys.SurveyRefused):
        surveys.answer(survey=fresh(survey), csat=3)


def test_an_expired_link_is_refused(client, org, member, contact):
    survey = send(org, member, contact)
    SurveyRequest.objects.for_org(org).filter(pk=survey.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(url(survey)).status_code == 410
    assert client.post(url(survey), {"csat": "4"}).status_code == 410
    assert not Touchpoint.objects.for_org(org).exists()


def test_a_tampered_or_forged_token_is_not_found(client, org, member, contact, other_org):
    survey = send(org, member, contact)
    token = surveys.token_for(survey)
    tampered = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    assert client.get(reverse("engagements:survey_answer", args=[tampered])).status_code == 404
    assert (
        client.post(
            reverse("engagements:survey_answer", args=[tampered]), {"csat": "1"}
        ).status_code
        == 404
    )
    # A validly signed token naming this survey under another organization finds nothing.
    forged = signing.dumps({"s": str(survey.pk), "o": str(other_org.pk)}, salt="other")
    assert client.get(reverse("engagements:survey_answer", args=[forged])).status_code == 404
    swapped = signing.dumps({"s": str(survey.pk), "o": str(other_org.pk)}, salt=surveys.SALT)
    assert client.get(reverse("engagements:survey_answer", args=[swapped])).status_code == 404
    assert not Touchpoint.objects.for_org(org).exists()


def test_a_token_of_one_organization_never_shows_another(client, org, other_org, member, contact):
    theirs_customer = make_customer(other_org, name="Beta Secret Buyer")
    theirs = make_contact(other_org, customer=theirs_customer, name="Bob", email="b@example.com")
    mine = send(org, member, contact)
    surveys.survey_send(org=other_org, actor=None, contact=theirs)
    page = client.get(url(mine)).content.decode()
    assert org.name in page
    assert other_org.name not in page and "Beta Secret Buyer" not in page


def test_the_page_speaks_the_contacts_language(client, org, member, contact):
    survey = send(org, member, contact, language="zh-hans")
    response = client.get(url(survey))
    assert response["Content-Language"] == "zh-hans"
    assert 'lang="zh-hans"' in response.content.decode() or "满意" in response.content.decode()


def test_sending_is_throttled_per_contact(org, member, contact):
    send(org, member, contact)
    with pytest.raises(surveys.SurveyRefused) as refused:
        send(org, member, contact)
    assert "contact" in refused.value.message_dict
    later = timezone.now() + timedelta(days=31)
    send(org, member, contact, now=later)
    assert SurveyRequest.objects.for_org(org).count() == 2


def test_the_email_carries_the_link_once(org, member, contact, django_capture_on_commit_callbacks):
    survey = send(org, member, contact)
    assert surveys.send_email(org=org, survey_id=survey.pk)
    assert not surveys.send_email(org=org, survey_id=survey.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["mei@example.com"]
    assert surveys.public_url(survey) in mail.outbox[0].body


def test_the_send_page_shows_a_form_error_for_a_contact_without_email(org, member_client):
    customer = make_customer(org)
    nomail = make_contact(org, customer=customer, name="No Mail")
    page = reverse("engagements:survey_send", kwargs={"org_slug": org.slug, "pk": nomail.pk})
    response = member_client.post(page, {"language": "en"})
    assert response.status_code == 400
    assert "no e-mail address" in response.content.decode()
    assert not SurveyRequest.objects.for_org(org).exists()


def test_the_send_page_sends(org, member_client, contact):
    page = reverse("engagements:survey_send", kwargs={"org_slug": org.slug, "pk": contact.pk})
    assert member_client.get(page).status_code == 200
    assert member_client.post(page, {"language": "en"}).status_code == 302
    assert SurveyRequest.objects.for_org(org).filter(contact=contact).count() == 1


def test_a_low_answer_feeds_the_satisfaction_rule(client, org, member):
    from risks import monitoring
    from risks.models import Risk

    customer = make_customer(org, name="Gamma")
    engagement = make_engagement(org, customer=customer)
    people = [make_contact(org, customer=customer, email=f"p{n}@example.com") for n in range(3)]
    for person in people:
        survey = send(org, member, person, engagement=engagement)
        assert client.post(url(survey), {"csat": "1"}).status_code == 200
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    assert Risk.objects.for_org(org).filter(signal__rule="satisfaction").count() == 1


def test_a_survey_goes_out_in_the_contacts_own_language(client, org, member, contact):
    """A contact who reads Chinese gets the survey in Chinese without the sender choosing;
    the send form offers their language first; a language chosen by the sender still wins."""
    from engagements.models import Contact
    from engagements.web.survey_forms import SurveySendForm

    Contact.objects.for_org(org).filter(pk=contact.pk).update(language="zh-hans")
    contact.refresh_from_db()
    assert SurveySendForm(org=org, contact=contact).fields["language"].initial == "zh-hans"
    survey = send(org, member, contact)
    assert survey.language == "zh-hans"
    assert client.get(url(survey))["Content-Language"] == "zh-hans"

    other = make_contact(org, customer=contact.customer, name="Ann", email="ann@example.com")
    assert send(org, member, other).language == "en"  # no language: the default
    assert (
        send(org, member, contact, language="en", now=timezone.now() + timedelta(days=31)).language
        == "en"
    )


def test_the_api_takes_a_contacts_language_and_refuses_an_unknown_one(api, org, contact):
    url_ = f"/api/v1/contacts/{contact.pk}/"
    response = api.patch(url_, {"language": "zh-hans"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "zh-hans"
    refused = api.patch(url_, {"language": "fr"}, format="json")
    assert refused.status_code == 400
    assert "language" in refused.json()["errors"] or "language" in str(refused.json())
