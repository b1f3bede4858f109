"""The audit trail: who changed what, when and from where, per organization.

Services call ``record()`` inside the transaction that makes the change (Zulip's
``RealmAuditLog``): the row commits or rolls back with the change it describes. Who and
from where come from the *origin* of the work, set once per request or command:

- ``AuditOriginMiddleware`` sets it for every web and API request (address, user agent);
- the API base adds the API key once it has authenticated the request, so an API write
  is attributed to "API key 'CRM sync' (created by Ann)";
- management commands use ``origin(via=CLI)``; Celery tasks and beat run as ``SYSTEM``.

Why not a library: django-auditlog and django-simple-history record through model
signals, which never fire for the conditional ``QuerySet.update()`` writes our services
use for state changes (the exactly-once transitions), cannot attribute a change to an API
key, and keep no ``organization`` column to scope (and, on PostgreSQL, row-level-secure)
the trail by tenant. An explicit call in each service is also what says which changes
matter.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from accounts.models import ApiKey, AuditEntry, Organization, User, object_type_of

Via = AuditEntry.Via

#: Action -> words for people (translatable). Each app registers its own actions in its
#: ``AppConfig.ready()``; an unregistered action is shown as its key.
ACTIONS: dict[str, Any] = {}


def register_action(action: str, label: Any) -> None:
    resource, _dot, verb = action.partition(".")
    if not resource or not verb:
        raise ValueError(f"Audit actions are '<resource>.<verb>', got {action!r}")
    ACTIONS[action] = label


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


@dataclass(frozen=True)
class Origin:
    """Where the work running now comes from."""

    via: str = Via.SYSTEM
    ip_address: str | None = None
    user_agent: str = ""
    user: User | None = None
    api_key: ApiKey | None = None
    # Set once anything in this request wrote an entry: the API base then skips its
    # generic "API write" entry, because a service already said what happened.
    recorded: list[bool] = field(default_factory=list, compare=False)


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def current_origin() -> Origin:
    return _origin.get() or Origin()


@contextmanager
def origin(**values: Any) -> Iterator[Origin]:
    """Run a block with this origin (``via``, ``ip_address``, ``user``, ``api_key``...)."""
    token = _origin.set(Origin(**values))
    try:
        yield _origin.get() or Origin()
    finally:
        _origin.reset(token)


def attribute_to_api_key(api_key: ApiKey) -> None:
    """The API base calls this once the key is known: later entries name the key."""
    current = _origin.get()
    _origin.set(replace(current or Origin(via=Via.API), via=Via.API, api_key=api_key))


def client_address(request: HttpRequest) -> str | None:
    """The caller's address: ``REMOTE_ADDR``, or the proxy's ``X-Forwarded-For`` entry
    when ``AXES_IPWARE_PROXY_COUNT`` trusted proxies stand in front (as for the log-in
    lockout, so both read the same address)."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxies:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [p.strip() for p in header.split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR")
    return str(remote) if remote else None


def _actor_label(user: User | None, api_key: ApiKey | None) -> str:
    if api_key is not None:
        creator = api_key.created_by
        by = f" ({creator.name} <{creator.email}>)" if creator is not None else ""
        return f"API key “{api_key.name}” {api_key.masked}{by}"
    if user is not None and user.pk:
        return f"{user.name} <{user.email}>"
    return ""


def jsonable(value: Any) -> Any:
    """A value as it can be stored in ``changes`` and read back by a person."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{"field": [old, new]}`` for the fields whose value differs."""
    out: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old != new:
            out[name] = [old, new]
    return out


# Bookkeeping that changes on every write and says nothing to a reader of the trail.
_NOT_AUDITED = {"updated_at", "version", "created_at", "organization"}


def snapshot(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as ids), for ``diff``."""
    skip = _NOT_AUDITED | set(exclude)
    values: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in skip or (getattr(f, "editable", True) is False and f.name != "status"):
            continue
        values[f.name] = getattr(obj, f.attname)
    return values


def _entry(
    *,
    org: Organization,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
    object_repr: str | None = None,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """One entry, not saved yet (see ``record``).

    ``actor`` is the person who acted (None for an API key or the system: the origin
    then says who). ``changes`` is ``{"field": [old, new]}`` (see ``diff``). An object that
    is already gone is named by ``object_type``/``object_id``/``object_repr``.
    """
    where = current_origin()
    api_key = where.api_key if where.via == Via.API else None
    # An API request acts as its key, whoever created the key.
    user = None if api_key is not None else actor if actor is not None and actor.pk else where.user
    if object_id is None:
        object_id = getattr(obj, "pk", None)
    if object_type is None:
        object_type = object_type_of(obj) if obj is not None else ""
    if object_repr is None:
        object_repr = str(obj) if obj is not None else ""
    entry = AuditEntry(
        organization=org,
        action=action,
        actor_user=user,
        actor_api_key=api_key,
        actor_label=_actor_label(user, api_key)[:300],
        via=where.via,
        ip_address=where.ip_address,
        user_agent=where.user_agent[:300],
        object_type=object_type,
        object_id=object_id if isinstance(object_id, uuid.UUID) else None,
        object_repr=object_repr[:300],
        changes={k: jsonable(v) for k, v in (changes or {}).items()},
        note=note[:300],
    )
    return entry


def record(
    *,
    org: Organization,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
    object_repr: str | None = None,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """Write one entry; call it inside the transaction of the change it describes.

    ``actor`` is the person who acted (None for an API key or the system: the origin
    then says who). ``changes`` is ``{"field": [old, new]}`` (see ``diff``). An object that
    is already gone is named by ``object_type``/``object_id``/``object_repr``.
    """
    entry = _entry(
        org=org,
        action=action,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        changes=changes,
        note=note,
    )
    entry.save()
    current_origin().recorded.append(True)
    return entry


def record_many(org: Organization, entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """``record`` for many entries of one write (a bulk upsert) in one INSERT; each entry
    has ``record``'s keywords besides ``org``."""
    rows = [_entry(org=org, **entry) for entry in entries]
    if rows:
        AuditEntry.objects.bulk_create(rows)
        current_origin().recorded.extend(True for _row in rows)
    return rows
