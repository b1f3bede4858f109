"""The lists people filter, sort and save views of: a registry, and the saved views.

Each list page registers itself once (``register("customers", "engagements:customer_list",
label)``, in its app's ``ready()``); a person saves the list's current query string under a
name and gets it back as a link. Saved views are personal settings (like notification
preferences): they are not domain events and not audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from followup.engine.models import SavedFilter

MAX_QUERY = 1000
MAX_PER_LIST = 30
#: Query parameters that are not part of a view: the page one is on, htmx's bookkeeping.
NOT_SAVED = frozenset({"page", "before", "csrfmiddlewaretoken"})


@dataclass(frozen=True)
class ListPage:
    key: str
    url_name: str  # an organization page: reversed with org_slug
    label: str | Promise

    def path(self, org: Organization) -> str:
        return reverse(self.url_name, kwargs={"org_slug": org.slug})


_LISTS: dict[str, ListPage] = {}


def register(key: str, url_name: str, label: str | Promise) -> ListPage:
    page = ListPage(key=key, url_name=url_name, label=label)
    _LISTS[key] = page
    return page


def get(key: str) -> ListPage | None:
    return _LISTS.get(key)


def clean_query(raw: str) -> str:
    """The view part of a query string: known-irrelevant and empty parameters dropped,
    re-encoded (so what is stored is what the list would read)."""
    params = QueryDict(raw or "", mutable=True)
    for name in list(params):
        values = [v for v in params.getlist(name) if v.strip()]
        if name in NOT_SAVED or not values:
            del params[name]
        else:
            params.setlist(name, values)
    return params.urlencode()


def saved_filters(org: Organization, user: User, list_key: str) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.for_org(org).filter(user=user, list_key=list_key).order_by("name")


def saved_filter_save(
    *, org: Organization, user: User, list_key: str, name: str, query: str
) -> SavedFilter:
    """Save (or, under the same name, replace) a view of a list."""
    if get(list_key) is None:
        raise ValidationError({"list": _("Unknown list.")})
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > 80:
        raise ValidationError({"name": _("Use at most 80 characters.")})
    query = clean_query(query)
    if len(query) > MAX_QUERY:
        raise ValidationError({"query": _("This view has too many filters to be saved.")})
    with transaction.atomic():
        existing = saved_filters(org, user, list_key).select_for_update().filter(name=name).first()
        if existing is not None:
            if existing.query != query:
                existing.query = query
                existing.save(update_fields=["query"])
            return existing
        if saved_filters(org, user, list_key).count() >= MAX_PER_LIST:
            raise ValidationError(
                {
                    "name": _("You have %(n)d saved views of this list: delete one first.")
                    % {"n": MAX_PER_LIST}
                }
            )
        return SavedFilter.objects.create(
            organization=org, user=user, list_key=list_key, name=name, query=query
        )


def saved_filter_delete(*, org: Organization, user: User, saved: SavedFilter) -> None:
    SavedFilter.objects.for_org(org).filter(pk=saved.pk, user=user).delete()
