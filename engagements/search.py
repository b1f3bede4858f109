"""What the header's search finds in business follow-up: customers, contacts, engagements.

One query per kind (``followup.kernel.search``); on PostgreSQL the ``icontains`` matches
use the trigram indexes of migration ``0004_search_indexes``.
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization, User
from engagements.models import Contact, Customer, Engagement
from followup.kernel import search
from followup.kernel.search import Result


def _url(org: Organization, name: str, pk: object) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, "pk": pk})


def find_customers(org: Organization, user: User, query: str, limit: int) -> list[Result]:
    rows = search.ranked(
        Customer.objects.for_org(org).filter(
            search.matching(query, ["name"]) | Q(external_id=query)
        ),
        query,
        "name",
    ).order_by("search_rank", Lower("name"), "id")[:limit]
    return [
        Result(
            kind="customers",
            title=c.name,
            subtitle=" · ".join(p for p in (c.get_status_display(), c.industry) if p),
            url=_url(org, "engagements:customer_detail", c.pk),
        )
        for c in rows.only("id", "name", "status", "industry")
    ]


def find_contacts(org: Organization, user: User, query: str, limit: int) -> list[Result]:
    rows = (
        search.ranked(
            Contact.objects.for_org(org).filter(search.matching(query, ["name", "email", "phone"])),
            query,
            "name",
        )
        .select_related("customer")
        .order_by("search_rank", Lower("name"), "id")[:limit]
    )
    return [
        Result(
            kind="contacts",
            title=c.name,
            subtitle=" · ".join(p for p in (c.customer.name, c.title, c.email) if p),
            url=_url(org, "engagements:customer_detail", c.customer_id),
        )
        for c in rows.only(
            "id", "name", "title", "email", "customer_id", "customer__id", "customer__name"
        )
    ]


def find_engagements(org: Organization, user: User, query: str, limit: int) -> list[Result]:
    rows = (
        search.ranked(
            Engagement.objects.for_org(org).filter(search.matching(query, ["name"])),
            query,
            "name",
        )
        .select_related("customer")
        .order_by("search_rank", "status", Lower("name"), "id")[:limit]
    )
    return [
        Result(
            kind="engagements",
            title=e.name,
            subtitle=_("%(customer)s · %(status)s")
            % {"customer": e.customer.name, "status": e.get_status_display()},
            url=_url(org, "engagements:engagement_detail", e.pk),
        )
        for e in rows.only("id", "name", "status", "customer_id", "customer__id", "customer__name")
    ]


def register() -> None:
    search.register("customers", gettext_lazy("Customers"), find_customers, order=10)
    search.register("contacts", gettext_lazy("Contacts"), find_contacts, order=20)
    search.register("engagements", gettext_lazy("Engagements"), find_engagements, order=30)
