"""The database's tenant context: the second lock (PostgreSQL row-level security).

The first lock is ``Model.objects.for_org(org)`` (``accounts/tenancy.py``). The second lock is
the database itself: with row-level security (``accounts/rls_schema.py``), a query sees only
the rows of the organization set for the current statement, and none when no organization
is set (an INSERT without one is refused).

Every unit of work names its organization once:

- a web or API request: the organization page mixin sets it after the membership check,
  API-key authentication after the key lookup (``RequestScopeMiddleware`` clears it at the
  start and the end of every request);
- a Celery task: ``with org_context(org_id):`` around the work of one organization (tasks
  take ``org_id``);
- work that truly spans organizations (a beat tick that claims due work of every
  organization, the outbox relay, token lookups) runs inside ``with cross_tenant("reason"):``,
  the one named bypass path. The reasons are the closed list ``BYPASS_REASONS`` below; an
  unknown reason raises.

The innermost context wins: an ``org_context`` inside a ``cross_tenant`` runs as that one
organization, and a ``cross_tenant`` inside an ``org_context`` spans organizations.

How the database learns it: every statement on a PostgreSQL connection is prefixed, in the
same query string, with ``SELECT set_config('followup.org_id', <org>, true), set_config('role',
<'followup_bypass'|'none'>, true);`` (``install``). The settings are local to the
transaction the statement runs in (its own implicit one in autocommit), so nothing leaks to
the next transaction on a pooled connection and it works behind PgBouncer in transaction
mode. The bypass is a role switch to a ``BYPASSRLS`` role the runtime role may assume,
rather than an ``OR bypass`` arm in the policy, so that the policy stays a plain equality on
the indexed ``organization_id`` (an ``OR`` arm on a setting turns every tenant query into a
sequential scan). A superuser connection (SQLite has no RLS at all) needs no role switch.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

#: Why work may see every organization's rows. Closed: ``cross_tenant`` refuses any other.
BYPASS_REASONS: dict[str, str] = {
    # Doors: the organization is not known until this lookup found it.
    "membership": "a person's own memberships across organizations: resolving /o/<slug>/, "
    "the organization switcher, the home redirect, log-in and sign-up",
    "api key": "finding the API key of a bearer token (the key names its organization)",
    "invitation token": "finding the invitation of an accept link",
    "calendar feed token": "finding the calendar feed of a feed URL's token",
    "survey token": "finding the survey request of a survey link's token",
    # Beat ticks: claim due work of every organization; the work itself runs per organization.
    "reminder tick": "claiming the due reminders and digests of every organization",
    "notification sweep": "finding notifications of every organization to mail",
    "outbox relay": "handing out events and due deliveries of every organization "
    "(each delivery then runs as its event's organization)",
    "expired rows cleanup": "deleting expired idempotency records and invitations of every "
    "organization",
    "import sweep": "finding stuck import jobs of every organization",
    "survey e-mail sweep": "finding survey requests of every organization to mail",
    "status reports: find the due report schedules of every organization": "the weekly "
    "status report beat",
    "early-warning sweep": "finding the engagements and projects whose early-warning rules are due",
    "milestone review sweep": "finding projects that need a milestone risk review",
    "milestone review tick": "claiming the due milestone risk reviews of every organization",
    "overdue milestone reviews": "finding the overdue milestone risk reviews",
    "claims": "claiming due rows of every organization (followup.kernel.claims)",
    # Administration across organizations.
    "admin command": "commands run by an operator across organizations (create_org, "
    "seed_demo, setup_db_roles)",
    "tests": "test set-up code (factories, fixtures); requests and tasks under test run with "
    "the context their middleware or task sets",
}

_State = tuple[str | None, str | None]  # (organization id, bypass reason)
_state: contextvars.ContextVar[_State] = contextvars.ContextVar("rls_state", default=(None, None))


class UnknownBypassReason(ValueError):
    pass


class MissingTenantContext(RuntimeError):
    """A statement on a tenant table ran with neither an organization nor a bypass (raised
    only when ``FOLLOWUP_RLS_STRICT`` is on, as in the tests; PostgreSQL would return no
    rows)."""


def _org_id(org: Any) -> str:
    value = getattr(org, "pk", org)
    if value is None:
        raise ValueError("org_context() needs a saved organization")
    return str(uuid.UUID(str(value)))  # validated: it is embedded in SQL as a literal


def _check_reason(reason: str) -> None:
    if reason not in BYPASS_REASONS:
        raise UnknownBypassReason(
            f"Unknown cross-tenant reason {reason!r}: add it to accounts.rls.BYPASS_REASONS"
        )


@contextlib.contextmanager
def org_context(org: Any) -> Iterator[None]:
    """Run the block as organization ``org`` (an Organization or its id)."""
    token = _state.set((_org_id(org), None))
    try:
        yield
    finally:
        _state.reset(token)


@contextlib.contextmanager
def cross_tenant(reason: str) -> Iterator[None]:
    """Run the block across organizations, for one of the ``BYPASS_REASONS``."""
    _check_reason(reason)
    token = _state.set((None, reason))
    try:
        yield
    finally:
        _state.reset(token)


@contextlib.contextmanager
def no_context() -> Iterator[None]:
    """Run the block with no organization and no bypass (a request's start; tests)."""
    token = _state.set((None, None))
    try:
        yield
    finally:
        _state.reset(token)


def enter_org(org: Any) -> None:
    """Set the organization for the rest of the current request (the organization page
    mixin and API-key authentication call it after their lookup). ``RequestScopeMiddleware``
    restores the previous context when the request ends, rendering included."""
    _state.set((_org_id(org), None))


def has_no_context() -> bool:
    return _state.get() == (None, None)


def current_org_id() -> str | None:
    return _state.get()[0]


def bypass_reason() -> str | None:
    return _state.get()[1]


def run_as_org(org_id: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with org_context(org_id):
        return func(*args, **kwargs)


class RequestScopeMiddleware:
    """Every request starts with no tenant context (whatever the thread had before, a test's
    set-up bypass included) and gives back the previous one when its answer is complete."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _state.set((None, None))
        try:
            return self.get_response(request)
        finally:
            _state.reset(token)


# --- The statement prefix ------------------------------------------------------------------

BYPASS_ROLE_DEFAULT = "followup_bypass"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def bypass_role() -> str:
    from django.conf import settings

    role = getattr(settings, "FOLLOWUP_DB_BYPASS_ROLE", BYPASS_ROLE_DEFAULT)
    if not _ROLE_NAME.match(role):
        raise ValueError(f"FOLLOWUP_DB_BYPASS_ROLE {role!r} is not a plain role name")
    return role


def statement_prefix(*, switch_role: bool) -> str:
    """The ``SELECT set_config(...);`` that runs before each statement, for the current
    context. Only validated literals (a UUID, a role name): no ``%`` to interpolate."""
    org, reason = _state.get()
    parts = [f"set_config('followup.org_id', '{org or ''}', true)"]
    if switch_role:
        parts.append(f"set_config('role', '{bypass_role() if reason else 'none'}', true)")
    return "SELECT " + ", ".join(parts) + "; "


# Not prefixed: statements PostgreSQL refuses inside a transaction block (a prefixed query
# string is one), and the transaction control Django sends itself (a ROLLBACK TO SAVEPOINT
# runs in an aborted transaction, where the prefix would fail; none of them reads rows).
_OUTSIDE_TRANSACTIONS = re.compile(
    r"\s*(?:SAVEPOINT|RELEASE\s|ROLLBACK|COMMIT|BEGIN|CREATE\s+DATABASE|DROP\s+DATABASE|VACUUM|CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY"
    r"|DROP\s+INDEX\s+CONCURRENTLY|REINDEX|ALTER\s+SYSTEM)",
    re.IGNORECASE,
)


_PREFIX = re.compile(r"^SELECT set_config\('followup\.org_id', '[^']*', true\)[^;]*; ")
_READS_OR_WRITES_ROWS = re.compile(r"\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


class _Wrapper:
    """``connection.execute_wrapper`` for PostgreSQL connections."""

    def __init__(self, *, switch_role: bool, strict: re.Pattern[str] | None) -> None:
        self.switch_role = switch_role
        self.strict = strict

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if _OUTSIDE_TRANSACTIONS.match(sql):
            return execute(sql, params, many, context)
        if (
            self.strict is not None
            and _state.get() == (None, None)
            and _READS_OR_WRITES_ROWS.match(sql)
            and self.strict.search(sql)
        ):
            raise MissingTenantContext(f"No tenant context for: {sql[:300]}")
        return execute(statement_prefix(switch_role=self.switch_role) + sql, params, many, context)


_tenant_table_pattern: re.Pattern[str] | None = None


def _strict_pattern() -> re.Pattern[str]:
    global _tenant_table_pattern
    if _tenant_table_pattern is None:
        from accounts.rls_schema import tenant_tables

        names = sorted((t.table for t in tenant_tables()), key=len, reverse=True)
        _tenant_table_pattern = re.compile('"(?:' + "|".join(map(re.escape, names)) + ')"')
    return _tenant_table_pattern


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` handler: every PostgreSQL connection gets the prefix."""
    if connection.vendor != "postgresql":
        return
    from django.conf import settings

    if any(isinstance(w, _Wrapper) for w in connection.execute_wrappers):
        connection.execute_wrappers[:] = [
            w for w in connection.execute_wrappers if not isinstance(w, _Wrapper)
        ]
    if connection.connection.get_parameter_status("is_superuser") == "on":
        # Row-level security does not apply to a superuser (the owner running migrations,
        # a development database without roles): nothing to set.
        return
    strict = _strict_pattern() if getattr(settings, "FOLLOWUP_RLS_STRICT", False) else None
    connection.execute_wrappers.insert(0, _Wrapper(switch_role=True, strict=strict))
    # Logged and captured SQL (DEBUG, assertNumQueries, query inspections) shows the
    # statement itself, without the prefix.
    ops = connection.ops
    if not getattr(ops, "_rls_unprefixed", False):
        original = ops.last_executed_query

        def last_executed_query(cursor: Any, sql: str, params: Any) -> str:
            return _PREFIX.sub("", original(cursor, sql, params), count=1)

        ops.last_executed_query = last_executed_query
        ops._rls_unprefixed = True


def as_org_of(argument: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: run a service as the organization of its keyword ``argument`` (an object
    with ``organization_id``, or an Organization), when no tenant context is set (a service
    reached from a page outside ``/o/<slug>/``: accepting an invitation, signing up)."""
    import functools

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            target = kwargs[argument]
            org_id = getattr(target, "organization_id", None) or getattr(target, "pk", target)
            if not has_no_context():
                return func(*args, **kwargs)
            with org_context(org_id):
                return func(*args, **kwargs)

        return run

    return decorate
