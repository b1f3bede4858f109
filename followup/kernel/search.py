"""The registry of what the header's search box finds.

The kernel knows no domain app; each app registers the kinds of record it can find, in its
``AppConfig.ready()``::

    from followup.kernel import search
    search.register("customers", _("Customers"), find_customers, order=10)

A kind's function is ``find(org, user, query, limit) -> list[Result]``: it runs **one**
query (``Model.objects.for_org(org)``, never one per result), so a search costs one query
per kind whatever it finds. ``matching()`` and ``ranked()`` build the usual shape: every
word of the query in one of the fields (``icontains``, which a trigram index serves on
PostgreSQL), prefix matches first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.functional import Promise

if TYPE_CHECKING:
    from accounts.models import Organization, User

#: Longest query we look at; the rest is ignored (nobody types more into a search box).
MAX_QUERY = 100
#: At most this many words are matched; more would only make the query slower.
MAX_WORDS = 5


@dataclass(frozen=True)
class Result:
    kind: str
    title: str
    subtitle: str
    url: str


Finder = Callable[["Organization", "User", str, int], list[Result]]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    find: Finder
    capability: str
    order: int


@dataclass(frozen=True)
class Group:
    kind: Kind
    results: list[Result]

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def label(self) -> str:
        return str(self.kind.label)


_KINDS: dict[str, Kind] = {}


def register(
    key: str,
    label: str | Promise,
    find: Finder,
    *,
    capability: str = "records.view",
    order: int = 100,
) -> Kind:
    """Make ``find`` answer searches for ``key``. Idempotent for the same key."""
    kind = Kind(key=key, label=label, find=find, capability=capability, order=order)
    _KINDS[key] = kind
    return kind


def unregister(key: str) -> None:
    _KINDS.pop(key, None)


def kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda kind: (kind.order, kind.key))


def clean(query: str) -> str:
    """The query as it is searched: trimmed, inner whitespace collapsed, capped."""
    return " ".join((query or "").split())[:MAX_QUERY]


def long_enough(query: str) -> bool:
    """Two characters, or one that is not ASCII (a single 李 or 王 is a real search)."""
    return len(query) >= 2 or (len(query) == 1 and not query.isascii())


def words(query: str) -> list[str]:
    return clean(query).split(" ")[:MAX_WORDS] if clean(query) else []


def matching(query: str, fields: Sequence[str]) -> Q:
    """Every word of the query in one of ``fields`` (case-insensitive substring)."""
    condition = Q()
    for word in words(query):
        either = Q()
        for field in fields:
            either |= Q(**{f"{field}__icontains": word})
        condition &= either
    return condition


def ranked(queryset: QuerySet[Any], query: str, field: str) -> QuerySet[Any]:
    """Annotate ``search_rank``: 0 when ``field`` starts with the query, 1 when a word of it
    does, 2 otherwise. Order by it first, so prefix matches come first."""
    term = clean(query)
    annotated: QuerySet[Any] = queryset.annotate(
        search_rank=Case(
            When(**{f"{field}__istartswith": term}, then=Value(0)),
            When(**{f"{field}__icontains": f" {term}"}, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return annotated


def run(
    org: Organization,
    user: User,
    query: str,
    *,
    limit: int,
    can: Callable[[str], bool] = lambda capability: True,
) -> list[Group]:
    """Every registered kind the person may see, each with up to ``limit`` results.

    Kinds without a result are left out; the order of kinds is their registration order.
    """
    query = clean(query)
    if not long_enough(query):
        return []
    groups = []
    for kind in kinds():
        if not can(kind.capability):
            continue
        results = kind.find(org, user, query, limit)
        if results:
            groups.append(Group(kind=kind, results=results[:limit]))
    return groups
