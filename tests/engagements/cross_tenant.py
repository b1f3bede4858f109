"""Cross-tenant cases for every route of business follow-up (pages and API)."""

from engagements.models import ImportJob, Kpi
from tests.engagements.factories import log, make_contact, make_customer, make_engagement
from tests.tenancy import Target, World, register


def _customer(w: World):
    return w.once(
        "customer",
        lambda: make_customer(
            w.org_a, name="Alpha Secret Customer", external_id="crm-alpha-1", owner=w.owner_a
        ),
    )


def _engagement(w: World):
    return w.once(
        "engagement",
        lambda: make_engagement(
            w.org_a, customer=_customer(w), name="Alpha Secret Engagement", external_id="eng-1"
        ),
    )


def _contact(w: World):
    return w.once(
        "contact",
        lambda: make_contact(
            w.org_a, customer=_customer(w), name="Alpha Secret Contact", external_id="ct-1"
        ),
    )


def _touchpoint(w: World):
    return w.once(
        "touchpoint",
        lambda: log(
            w.org_a,
            _engagement(w).customer,
            summary="Alpha secret summary",
            external_id="tp-1",
        ),
    )


def _kpi(w: World):
    return w.once(
        "kpi",
        lambda: Kpi.objects.create(
            organization=w.org_a, engagement=_engagement(w), name="Alpha KPI", target=4
        ),
    )


def _job(w: World):
    return w.once(
        "job",
        lambda: ImportJob.objects.create(
            organization=w.org_a, kind="customers", filename="alpha-secret.csv", content="name\n"
        ),
    )


def customer_list(w):
    return Target({}, _customer(w).name)


def customer_item(w):
    c = _customer(w)
    return Target({"pk": c.pk}, c.name)


def customer_external(w):
    c = _customer(w)
    return Target({"external_id": c.external_id}, str(c.pk))


def engagement_item(w):
    e = _engagement(w)
    return Target({"pk": e.pk}, e.name)


def engagement_external(w):
    e = _engagement(w)
    return Target({"external_id": e.external_id}, str(e.pk))


def contact_item(w):
    c = _contact(w)
    return Target({"pk": c.pk}, c.name)


def contact_external(w):
    c = _contact(w)
    return Target({"external_id": c.external_id}, str(c.pk))


def touchpoint_list(w):
    return Target({}, _touchpoint(w).summary)


def touchpoint_item(w):
    t = _touchpoint(w)
    return Target({"pk": t.pk}, t.summary)


def touchpoint_external(w):
    t = _touchpoint(w)
    return Target({"external_id": t.external_id}, str(t.pk))


def kpi_item(w):
    k = _kpi(w)
    return Target({"pk": k.pk}, k.name)


def job_item(w):
    j = _job(w)
    return Target({"pk": j.pk}, j.filename)


# Bodies that point at org A's objects: org B must get 400 (foreign id) or 404.
def customer_body(w):
    return {"name": "Renamed", "owner": str(w.owner_a.pk)}


def contact_body(w):
    return {"customer": str(_customer(w).pk), "name": "Someone"}


def engagement_body(w):
    return {"customer": str(_customer(w).pk), "name": "Another engagement"}


def touchpoint_body(w):
    return {"customer": str(_engagement(w).customer_id), "channel": "call", "summary": "Hello"}


# The pages' forms: complete, valid posts for org A (their relations point at A's objects).
def customer_page_body(w):
    return {
        "name": "Renamed",
        "status": "active",
        "tier": "standard",
        "currency": "EUR",
        "owner": str(w.owner_a.pk),
    }


def engagement_page_body(w):
    return {
        "name": "Another engagement",
        "status": "active",
        "started_on": "2026-01-05",
        "cadence_days": "14",
        "owner": str(w.owner_a.pk),
    }


def touchpoint_page_body(w):
    return {
        "channel": "call",
        "summary": "Rewritten",
        "occurred_at": "2026-01-05T10:00",
        "effort_minutes": "0",
        "engagement": str(_engagement(w).pk),
    }


def health_settings_body(w):
    from engagements.calc.health import HealthSettings
    from engagements.web.forms import HealthSettingsForm

    return HealthSettingsForm.initial_from(HealthSettings())


def import_body(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "kind": "customers",
        "file": SimpleUploadedFile("customers.csv", b"name\nImported\n", "text/csv"),
    }


def kpi_body(w):
    return {"name": "Satisfaction", "metric": "satisfaction", "target": "4.5"}


# --- Pages -----------------------------------------------------------------------------
register(
    "engagements:customer_list",
    "engagements:customer_export",
    "engagements:effort",
    make=customer_list,
)
register("engagements:customer_create", make=customer_list, body=customer_page_body)
register("engagements:customer_detail", make=customer_item)
register("engagements:customer_edit", make=customer_item, body=customer_page_body)
register("engagements:contact_create", make=customer_item, body=lambda w: {"name": "X"})
register("engagements:engagement_create", make=customer_item, body=engagement_page_body)
register("engagements:contact_edit", make=contact_item, body=lambda w: {"name": "X"})
register("engagements:contact_delete", make=contact_item)
register("engagements:customer_delete", make=customer_item)
register("engagements:touchpoint_edit", make=touchpoint_item, body=touchpoint_page_body)
register("engagements:touchpoint_delete", make=touchpoint_item)
register("engagements:engagement_detail", make=engagement_item)
register("engagements:engagement_edit", make=engagement_item, body=engagement_page_body)
register("engagements:kpi_create", make=engagement_item, body=kpi_body)
register("engagements:kpi_edit", make=kpi_item, body=kpi_body)
register("engagements:kpi_delete", make=kpi_item)
register("engagements:quick_log", make=touchpoint_list, body=touchpoint_body)
register(
    "engagements:imports",
    make=lambda w: Target({}, _job(w).filename),
    body=import_body,
    body_names_org_a=False,
)
register("engagements:import_detail", make=job_item)
register("engagements:import_template", make=lambda w: Target({}, _job(w).filename))
register(
    "engagements:health_settings",
    make=lambda w: Target({}, _customer(w).name),
    body=health_settings_body,
    body_names_org_a=False,
)

# --- API -------------------------------------------------------------------------------
register("customer-list", make=customer_list, body=customer_body)
register("customer-detail", make=customer_item, body=customer_body)
register("customer-external", make=customer_external, body=customer_body, upsert=True)
register("customer-bulk", make=customer_list, body=lambda w: [customer_body(w)])
register("contact-list", make=lambda w: Target({}, _contact(w).name), body=contact_body)
register("contact-detail", make=contact_item, body=contact_body)
register("contact-external", make=contact_external, body=contact_body, upsert=True)
register(
    "contact-bulk", make=lambda w: Target({}, _contact(w).name), body=lambda w: [contact_body(w)]
)
register("engagement-list", make=lambda w: Target({}, _engagement(w).name), body=engagement_body)
register("engagement-detail", make=engagement_item, body=engagement_body)
register("engagement-external", make=engagement_external, body=engagement_body, upsert=True)
register("touchpoint-list", make=touchpoint_list, body=touchpoint_body)
register("touchpoint-detail", make=touchpoint_item, body=touchpoint_body)
register("touchpoint-external", make=touchpoint_external, body=touchpoint_body, upsert=True)
register("touchpoint-bulk", make=touchpoint_list, body=lambda w: [touchpoint_body(w)])

# Bulk work on customers: org A's ids are unknown in org B (400).
register(
    "engagements:customer_bulk",
    make=customer_list,
    body=lambda w: {
        "ids": [str(_customer(w).pk)],
        "field": "status",
        "status": "churned",
        "confirm": "1",
    },
)


# --- Satisfaction surveys -----------------------------------------------------------------


def _survey_contact(w: World):
    def make():
        customer = make_customer(w.org_a, name="Alpha survey customer")
        return make_contact(w.org_a, customer=customer, name="Alpha Mei", email="a@example.com")

    return w.once("survey_contact", make)


register(
    "engagements:survey_send",
    make=lambda w: Target({"pk": _survey_contact(w).pk}, _survey_contact(w).name),
    body=lambda w: {"language": "en"},
)


def _answer_change(w: World):
    from django.utils import timezone

    from engagements import answers
    from followup.engine import services as followup_services

    def make():
        customer = _customer(w)
        followup = followup_services.followup_create(
            org=w.org_a,
            actor=w.owner_a,
            title="Alpha secret call",
            owner=w.owner_a,
            due_at=timezone.now(),
            subject=customer,
        )
        return answers.touchpoint_answer(
            org=w.org_a,
            actor=w.owner_a,
            answers=followup,
            customer=customer,
            channel="call",
            summary="Alpha secret answer",
        ).change

    return w.once("answer_change", make)


register(
    "engagements:answer_undo", make=lambda w: Target({"pk": _answer_change(w).pk}, "alpha-secret")
)
