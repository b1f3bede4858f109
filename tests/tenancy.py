"""Route enumeration and the registry of cross-tenant cases.

Every route of the URLconf is either public (listed in ``PUBLIC_ROUTES`` with a reason) or
tenant-scoped (``/api/v1/...`` or ``/o/<org_slug>/...``). Each tenant route needs a
:class:`Case` registered by its app in ``tests/<app>/cross_tenant.py`` that builds an
object of organization A and returns the URL kwargs that reach it. The test in
``tests/test_cross_tenant.py`` then asserts that organization A reaches it and
organization B gets 404, for every HTTP method the route serves.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

import tests


@dataclass
class World:
    org_a: Any
    org_b: Any
    owner_a: Any  # owner of org A (a User)
    outsider: Any  # owner of org B (a User)
    key_a: str  # plain owner-role API key of org A
    key_b: str  # plain owner-role API key of org B
    cache: dict[str, Any] = field(default_factory=dict)

    def once(self, name: str, make: Callable[[], Any]) -> Any:
        """Share one object between the helpers of a case."""
        if name not in self.cache:
            self.cache[name] = make()
        return self.cache[name]


@dataclass(frozen=True)
class Target:
    kwargs: dict[str, Any]  # URL kwargs besides org_slug
    marker: str  # a string (usually an id) that must not appear in org B's answers


@dataclass(frozen=True)
class Case:
    make: Callable[[World], Target]
    #: A valid request body for writes (POST/PUT/PATCH): org A's own request with it must
    #: succeed. Where the resource has relations it points at org A's objects, and org B
    #: must then get 400 (foreign id) or 404, never a write.
    body: Callable[[World], Any] | None = None
    #: The body names nothing of org A (an invitation, a name): org B's write to its own
    #: collection may succeed there; it must not fail or leak.
    body_names_org_a: bool = True
    #: An upsert by a client-chosen key (``PUT .../external/<external_id>/``): the same key
    #: in org B names B's own object, so B's PUT creates there (201) or is refused (400);
    #: it must never update (200) or reveal org A's object.
    upsert: bool = False


CASES: dict[str, Case] = {}


def register(
    *route_names: str,
    make: Callable[[World], Target],
    body: Callable[[World], Any] | None = None,
    body_names_org_a: bool = True,
    upsert: bool = False,
) -> None:
    for name in route_names:
        if name in CASES:
            raise ValueError(f"Two cross-tenant cases for {name}")
        CASES[name] = Case(make=make, body=body, body_names_org_a=body_names_org_a, upsert=upsert)


# Routes outside any organization, and why each is safe to leave out.
PUBLIC_ROUTES: dict[str, str] = {
    "root": "redirects to the person's own first organization",
    "healthz": "liveness, no data",
    "readyz": "readiness, no data",
    "service_worker": "the service worker's code and the static file names it caches, no data",
    "web_manifest": "the installable app's name and icon, no data",
    "csrf_token": "a CSRF token for the caller's own session, readable by the same origin only",
    "api-schema": "the OpenAPI document, no data",
    "api-docs": "Swagger UI, no data",
    "api-root": "redirect to the docs",
    "accounts:login": "anonymous page",
    "accounts:logout": "ends the own session",
    "accounts:signup": "mails a confirmation link (or the known address's owner); no data",
    "accounts:signup_sent": "anonymous page, the same for every address",
    "accounts:signup_confirm": (
        "a one-time, expiring token (stored as its digest) is the credential; it confirms "
        "the own new account only (tests/accounts/test_signup_confirmation.py)"
    ),
    "accounts:signup_resend": "anonymous page, the same answer for every address",
    "accounts:profile": "the person's own profile, no organization data",
    "accounts:organization_create": "creates a new organization",
    "accounts:password_reset": "anonymous page",
    "accounts:password_reset_done": "anonymous page",
    "accounts:password_reset_confirm": "protected by a signed, expiring token",
    "accounts:password_reset_complete": "anonymous page",
    "accounts:invitation_accept": "the secret token is the credential (test_invitations.py)",
    "accounts:set_language": "the person's own preference",
    "engagements:survey_answer": (
        "a signed, expiring, single-use token is the credential; it names one survey of one "
        "organization and the page shows only that survey (tests/engagements/test_surveys.py)"
    ),
    "followup:calendar_feed": (
        "the secret token is the credential; revoked and unknown tokens are 404 and the feed "
        "holds only its owner's follow-ups of one organization (tests/followup/test_calendar.py)"
    ),
}
PUBLIC_NAMESPACES = {"admin": "Django admin, staff only; not reachable by organization users"}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # full route, e.g. "api/v1/members/<pk>/"
    callback: Any

    @property
    def kind(self) -> str:
        if self.pattern.startswith("api/v1/"):
            return "api"
        if self.pattern.startswith("o/<slug:org_slug>/"):
            return "org"
        return "public"

    @property
    def kwarg_names(self) -> list[str]:
        names = re.findall(r"\(\?P<(\w+)>", self.pattern)
        names += re.findall(r"(?<!\?P)<(?:\w+:)?(\w+)>", self.pattern)
        return [n for n in names if n != "org_slug"]

    def methods(self) -> list[str]:
        cls = getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)
        actions = getattr(self.callback, "actions", None)
        if actions:  # a DRF viewset route
            methods = [m.upper() for m in actions]
        elif hasattr(cls, "capabilities"):  # an organization page
            methods = [m for m in cls.capabilities if m != "HEAD" and hasattr(cls, m.lower())]
        elif cls is not None:
            methods = [
                m.upper()
                for m in cls.http_method_names
                if m not in ("head", "options") and hasattr(cls, m)
            ]
        else:
            methods = ["GET"]
        return sorted(set(methods) - {"HEAD", "OPTIONS"})

    def url(self, org_slug: str | None, kwargs: dict[str, Any]) -> str:
        path = self.pattern
        values = {**kwargs, "org_slug": org_slug}
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
        path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
        return "/" + path


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = (
                f"{namespace}{entry.name}"
                if entry.name
                else f"{namespace}<unnamed {prefix}{entry.pattern}>"
            )
            yield Route(name=name, pattern=prefix + str(entry.pattern), callback=entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def is_public(route: Route) -> bool:
    namespace = route.name.split(":", 1)[0] if ":" in route.name else ""
    return route.name in PUBLIC_ROUTES or namespace in PUBLIC_NAMESPACES


def tenant_routes() -> list[Route]:
    return [r for r in all_routes() if r.kind in ("api", "org")]


def load_cases() -> dict[str, Case]:
    """Import every ``tests/<app>/cross_tenant.py`` so that they register their cases."""
    for module in pkgutil.iter_modules(tests.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"tests.{module.name}.cross_tenant")
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{module.name}.cross_tenant":
                    raise
    return CASES
