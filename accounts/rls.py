"""The database's tenant context: the second lock (PostgreSQL row-level security).

The first lock is ``Model.objects.for_org(org)`` (``accounts/tenancy.py``). The second lock is
the database itself: with row-level security, a query sees only the rows of the organization
set for the current transaction, and none when no organization is set.

Every unit of work names its organization once:

- a web or API request: the middleware sets it from the URL's organization or the API key;
- a Celery task: ``with org_context(org_id):`` around the work of one organization (tasks
  take ``org_id``);
- work that truly spans organizations (a beat tick that claims due work of every
  organization, the outbox relay, token lookups) runs inside ``with cross_tenant("reason"):``,
  which is the one named bypass path.

Until row-level security is switched on these context managers only record the context, so
code written against them now keeps working when it is.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_current_org: contextvars.ContextVar[str | None] = contextvars.ContextVar("rls_org", default=None)
_bypass: contextvars.ContextVar[str | None] = contextvars.ContextVar("rls_bypass", default=None)


def _org_id(org: Any) -> str:
    return str(getattr(org, "pk", org))


@contextlib.contextmanager
def org_context(org: Any) -> Iterator[None]:
    """Run the block as organization ``org`` (an Organization or its id)."""
    token = _current_org.set(_org_id(org))
    try:
        yield
    finally:
        _current_org.reset(token)


@contextlib.contextmanager
def cross_tenant(reason: str) -> Iterator[None]:
    """Run the block across organizations, for the reason given (kept for review and logs)."""
    token = _bypass.set(reason)
    try:
        yield
    finally:
        _bypass.reset(token)


def current_org_id() -> str | None:
    return _current_org.get()


def bypass_reason() -> str | None:
    return _bypass.get()
