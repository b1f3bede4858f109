"""Satisfaction surveys: a short CSAT (1-5) question, with an optional NPS (0-10), sent by
e-mail to a contact and answered on a public page in the language chosen for the contact.

The link's token is ``signing.dumps`` of the survey's id and organization (salted): it
cannot be forged or altered (a tampered token is "not found"), it expires with the survey
(``expires_at``, and the signature's own age limit), and it is single-use: answering is a
conditional update of ``answered_at``, so a second answer (or two at once) changes nothing.
The answer is logged as a touchpoint (e-mail channel) whose satisfaction is the CSAT score:
health and the early-warning rules read it like any other touchpoint.

Sending is throttled: one survey per contact per ``THROTTLE`` (organization setting
``settings["surveys"]["throttle_days"]``), so nobody is pestered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import audit, rls
from accounts.models import Organization, User
from accounts.rls import cross_tenant
from engagements import services
from engagements.models import Contact, Engagement, SurveyRequest, Touchpoint

logger = logging.getLogger(__name__)

SALT = "engagements.survey"
DEFAULT_VALID_DAYS = 14
DEFAULT_THROTTLE_DAYS = 30
# A signature older than this is refused whatever the row says.
MAX_AGE = timedelta(days=90)


class SurveyRefused(ValidationError):
    pass


def _org_days(org: Organization, name: str, default: int) -> int:
    value = ((org.settings or {}).get("surveys") or {}).get(name)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 365:
        return value
    return default


def token_for(survey: SurveyRequest) -> str:
    return signing.dumps({"s": str(survey.pk), "o": str(survey.organization_id)}, salt=SALT)


def public_url(survey: SurveyRequest) -> str:
    return reverse("engagements:survey_answer", kwargs={"token": token_for(survey)})


def survey_send(
    *,
    org: Organization,
    actor: User | None,
    contact: Contact,
    engagement: Engagement | None = None,
    language: str = "",
    now: datetime | None = None,
) -> SurveyRequest:
    """Create the survey and e-mail its link to the contact (after commit)."""
    now = now or timezone.now()
    if contact.organization_id != org.pk:
        raise SurveyRefused({"contact": _("Choose a contact of this organization.")})
    if engagement is not None and (
        engagement.organization_id != org.pk or engagement.customer_id != contact.customer_id
    ):
        raise SurveyRefused({"engagement": _("Choose an engagement of the contact's customer.")})
    if not contact.email:
        raise SurveyRefused({"contact": _("This contact has no e-mail address.")})
    codes = {code for code, _name in settings.LANGUAGES}
    language = language or contact.language or settings.LANGUAGE_CODE
    if language not in codes:
        raise SurveyRefused({"language": _("Choose one of the offered languages.")})
    throttle = timedelta(days=_org_days(org, "throttle_days", DEFAULT_THROTTLE_DAYS))
    with transaction.atomic():
        locked = Contact.objects.for_org(org).select_for_update().get(pk=contact.pk)
        recent = (
            SurveyRequest.objects.for_org(org)
            .filter(contact=locked, created_at__gt=now - throttle)
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            raise SurveyRefused(
                {
                    "contact": _(
                        "%(name)s was sent a survey on %(day)s; the next one can go after %(next)s."
                    )
                    % {
                        "name": locked.name,
                        "day": f"{recent.created_at:%Y-%m-%d}",
                        "next": f"{recent.created_at + throttle:%Y-%m-%d}",
                    }
                }
            )
        survey = SurveyRequest.objects.create(
            organization=org,
            customer_id=locked.customer_id,
            contact=locked,
            engagement=engagement,
            language=language,
            sent_by=actor if actor is not None and actor.pk else None,
            expires_at=now + timedelta(days=_org_days(org, "valid_days", DEFAULT_VALID_DAYS)),
        )
        audit.record(org=org, action="survey.sent", actor=actor, obj=survey, note=locked.name)
        org_id, survey_id = org.pk, survey.pk
        transaction.on_commit(lambda: _queue(org_id, survey_id), robust=True)
    return survey


def _queue(org_id: Any, survey_id: Any) -> None:
    from engagements.tasks import send_survey

    try:
        send_survey.delay(str(org_id), str(survey_id))
    except Exception:  # noqa: BLE001 - the broker is down: the sweep sends it
        logger.warning("Could not queue survey %s; the sweep will", survey_id)


def send_email(*, org: Organization, survey_id: Any) -> bool:
    """E-mail the link, once (``emailed_at``, set in the transaction that sends)."""
    with transaction.atomic():
        survey = (
            SurveyRequest.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("contact", "customer", "organization")
            .filter(pk=survey_id, emailed_at__isnull=True, answered_at__isnull=True)
            .first()
        )
        if survey is None or survey.expires_at <= timezone.now():
            return False
        with translation.override(survey.language):
            context = {
                "survey": survey,
                "org": org,
                "url": settings.BASE_URL + public_url(survey),
            }
            subject = " ".join(
                render_to_string("engagements/email/survey_subject.txt", context).split()
            )
            text = render_to_string("engagements/email/survey.txt", context)
        EmailMultiAlternatives(subject, text, to=[survey.contact.email]).send()
        survey.emailed_at = timezone.now()
        survey.save(update_fields=["emailed_at"])
    return True


# --- The public page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    survey: SurveyRequest
    answered: bool
    expired: bool


def open_token(token: str, *, now: datetime | None = None) -> Opened | None:
    """The survey a token names, or None for a forged, altered or unknown one."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    survey_id, org_id = str(data.get("s") or ""), str(data.get("o") or "")
    if not survey_id or not org_id:
        return None
    with cross_tenant("survey token"):
        # Cross-tenant by nature: the token, not a login, names the organization; it is
        # signed with the organization's id, and the row must belong to that organization.
        survey = (
            SurveyRequest.objects.dangerously_unscoped()
            .select_related("organization", "contact", "customer")
            .filter(pk=survey_id, organization_id=org_id)
            .first()
        )
    if survey is None:
        return None
    # The signed token named the organization: the rest of the request runs as it.
    rls.enter_org(survey.organization_id)
    return Opened(
        survey=survey, answered=survey.answered_at is not None, expired=survey.expires_at <= now
    )


def answer(
    *,
    survey: SurveyRequest,
    csat: int,
    nps: int | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Touchpoint:
    """Record the answer once, as a touchpoint with its satisfaction."""
    now = now or timezone.now()
    org = survey.organization
    if not 1 <= csat <= 5:
        raise SurveyRefused({"csat": _("Choose a score from 1 to 5.")})
    if nps is not None and not 0 <= nps <= 10:
        raise SurveyRefused({"nps": _("Choose a score from 0 to 10.")})
    with transaction.atomic():
        claimed = (
            SurveyRequest.objects.for_org(org)
            .filter(pk=survey.pk, answered_at__isnull=True, expires_at__gt=now)
            .update_versioned(answered_at=now, csat=csat, nps=nps, comment=comment.strip())
        )
        if not claimed:
            raise SurveyRefused(_("This survey was answered already or has expired."))
        fresh = SurveyRequest.objects.for_org(org).select_related("contact").get(pk=survey.pk)
        words = _("Survey answer: satisfaction %(csat)d of 5") % {"csat": csat}
        if nps is not None:
            words += ", " + _("recommendation %(nps)d of 10") % {"nps": nps}
        touchpoint = services.touchpoint_log(
            org=org,
            actor=None,
            customer=fresh.customer,
            engagement=fresh.engagement,
            channel=Touchpoint.Channel.EMAIL,
            summary=words,
            outcome=fresh.comment,
            contacts=[fresh.contact],
            satisfaction=csat,
            occurred_at=now,
            source=Touchpoint.Source.API,
        )
        SurveyRequest.objects.for_org(org).filter(pk=survey.pk).update(touchpoint=touchpoint)
    return touchpoint


def pending_emails(*, older_than: timedelta, batch: int = 200) -> list[tuple[str, str]]:
    """Surveys whose e-mail was not sent (the broker was down), for the sweep."""
    cutoff = timezone.now() - older_than
    with cross_tenant("survey e-mail sweep"):
        # Cross-tenant by nature: the beat finds unsent surveys of every organization.
        rows = (
            SurveyRequest.objects.dangerously_unscoped()
            .filter(
                emailed_at__isnull=True,
                answered_at__isnull=True,
                created_at__lt=cutoff,
                expires_at__gt=timezone.now(),
            )
            .values_list("organization_id", "pk")[:batch]
        )
        return [(str(o), str(s)) for o, s in rows]
