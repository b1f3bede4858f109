"""The registry of what a follow-up can be about.

The core knows the domain apps only through this registry (DESIGN.md: no arrow from
``followup`` to ``engagements``). An app registers each followable model once, in its
``AppConfig.ready()``::

    from followup.kernel import subjects
    subjects.register("engagement", Engagement, label=_("Engagement"),
                      url=lambda e: reverse("engagements:detail", kwargs=...))

API clients then name a subject as ``subject_type`` (the key) plus ``subject_id``, which is
resolved inside the organization only: a foreign or unknown id is an input error. Deleting a
registered subject runs every consumer's delete hook (``on_delete_of_any_subject``): the
engine cancels the subject's open follow-ups (or deletes them all, per registration), so
nothing points at a record that no longer exists without saying so.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import pre_delete
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import is_tenant_model

if TYPE_CHECKING:
    from accounts.models import Organization

ON_DELETE_CHOICES = ("cancel", "delete")


@dataclass(frozen=True)
class SubjectType:
    key: str
    model: type[models.Model]
    label: str | Promise
    url: Callable[[Any], str]  # the subject's page (path), for links from follow-ups
    describe: Callable[[Any], str]
    on_delete: str
    related: tuple[str, ...] = ()  # select_related() for describe()/url()
    # How a person answers a follow-up on this subject with a record of their own (log a
    # touchpoint): a label and the URL of that form for one follow-up. None: complete only.
    answer: tuple[str | Promise, Callable[[Any], str]] | None = None
    # False for subjects that carry comments but are not what a follow-up is about (a
    # follow-up itself): ``resolve`` refuses them unless asked for any subject.
    followable: bool = True


_BY_KEY: dict[str, SubjectType] = {}
_BY_MODEL: dict[type[models.Model], SubjectType] = {}


def register(
    key: str,
    model: type[models.Model],
    *,
    label: str | Promise,
    url: Callable[[Any], str],
    describe: Callable[[Any], str] = str,
    on_delete: str = "cancel",
    related: tuple[str, ...] = (),
    answer: tuple[str | Promise, Callable[[Any], str]] | None = None,
    followable: bool = True,
) -> SubjectType:
    """Make ``model`` followable under ``key``. Idempotent for the same model and key."""
    if not is_tenant_model(model):
        raise TypeError(f"{model.__name__} is not tenant-owned; it cannot be a subject")
    if on_delete not in ON_DELETE_CHOICES:
        raise ValueError(f"on_delete must be one of {ON_DELETE_CHOICES}")
    existing = _BY_KEY.get(key)
    if existing is not None and existing.model is not model:
        raise ValueError(f"Subject type {key!r} is already registered for {existing.model}")
    entry = SubjectType(
        key=key,
        model=model,
        label=label,
        url=url,
        describe=describe,
        on_delete=on_delete,
        related=tuple(related),
        answer=answer,
        followable=followable,
    )
    _BY_KEY[key] = entry
    _BY_MODEL[model] = entry
    pre_delete.connect(_subject_deleted, sender=model, dispatch_uid=f"followup-subject-{key}")
    return entry


def unregister(key: str) -> None:
    entry = _BY_KEY.pop(key, None)
    if entry is not None:
        _BY_MODEL.pop(entry.model, None)
        pre_delete.disconnect(sender=entry.model, dispatch_uid=f"followup-subject-{key}")


def registered() -> list[SubjectType]:
    return sorted(_BY_KEY.values(), key=lambda entry: entry.key)


def get(key: str) -> SubjectType | None:
    return _BY_KEY.get(key)


def for_model(model: type[models.Model]) -> SubjectType | None:
    return _BY_MODEL.get(model)


def type_key(model: type[models.Model]) -> str:
    """How records that point at any model (the outbox's events) name its type: the
    registry key of a followable model, else ``app_label.model_name``. Never the bare
    model name: two apps may both have a ``Review``."""
    entry = _BY_MODEL.get(model)
    return entry.key if entry is not None else model._meta.label_lower


def for_content_type(content_type_id: int | None) -> SubjectType | None:
    if content_type_id is None:
        return None
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    return _BY_MODEL.get(model) if model is not None else None


def content_type_for(key: str) -> ContentType:
    entry = _BY_KEY[key]
    return ContentType.objects.get_for_model(entry.model)


def resolve(org: Organization, key: str, obj_id: Any, *, any_subject: bool = False) -> models.Model:
    """The subject ``key``/``obj_id`` of ``org``; ValidationError for anything else.

    Unknown type, malformed id, missing row and another organization's row all fail the
    same way, so input cannot probe other tenants. Only followable types are resolved
    unless ``any_subject`` (comments may be on any registered subject).
    """
    entry = _BY_KEY.get(key)
    if entry is None or not (any_subject or entry.followable):
        known = (k for k, e in _BY_KEY.items() if any_subject or e.followable)
        raise ValidationError(
            {"subject_type": _("Unknown subject type. Use one of: %(types)s.")},
            params={"types": ", ".join(sorted(known)) or "-"},
        )
    try:
        pk = obj_id if isinstance(obj_id, uuid.UUID) else uuid.UUID(str(obj_id))
        return entry.model.objects.for_org(org).get(pk=pk)  # type: ignore[attr-defined]
    except (ValueError, entry.model.DoesNotExist):
        raise ValidationError({"subject_id": _("No such subject in this organization.")}) from None


@dataclass(frozen=True)
class SubjectRef:
    key: str
    id: uuid.UUID
    label: str  # the type's label
    title: str  # the subject's own name, or "deleted" when it is gone
    url: str  # path of the subject's page, "" when unknown
    answer_label: str = ""  # e.g. "Log touchpoint", when the subject type offers an answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.key,
            "id": str(self.id),
            "label": str(self.label),
            "title": self.title,
            "url": self.url,
        }


def attach(org: Organization, rows_about_subjects: Iterable[Any]) -> None:
    """Set ``subject_ref`` on each row (``subject_type_id`` + ``subject_id``, such as a
    follow-up) with one query per subject type, not per row."""
    rows = list(rows_about_subjects)
    wanted: dict[int, set[uuid.UUID]] = defaultdict(set)
    for row in rows:
        row.subject_ref = None  # type: ignore[attr-defined]
        if row.subject_type_id and row.subject_id:
            wanted[row.subject_type_id].add(row.subject_id)
    found: dict[tuple[int, uuid.UUID], SubjectRef] = {}
    for content_type_id, ids in wanted.items():
        entry = for_content_type(content_type_id)
        if entry is None:
            continue
        scoped = entry.model.objects.for_org(org)  # type: ignore[attr-defined]
        if entry.related:
            scoped = scoped.select_related(*entry.related)
        objects = scoped.in_bulk(ids)
        for pk in ids:
            obj = objects.get(pk)
            found[(content_type_id, pk)] = SubjectRef(
                key=entry.key,
                id=pk,
                label=str(entry.label),
                title=entry.describe(obj) if obj is not None else str(_("(deleted)")),
                url=entry.url(obj) if obj is not None else "",
                answer_label=str(entry.answer[0]) if entry.answer is not None else "",
            )
    for row in rows:
        row.answer_url = ""  # type: ignore[attr-defined]
        if row.subject_type_id and row.subject_id:
            ref = found.get((row.subject_type_id, row.subject_id))
            row.subject_ref = ref  # type: ignore[attr-defined]
            entry = for_content_type(row.subject_type_id)
            if ref is not None and ref.url and entry is not None and entry.answer is not None:
                row.answer_url = entry.answer[1](row)  # type: ignore[attr-defined]


DeleteHook = Callable[[SubjectType, models.Model], None]
_delete_hooks: list[DeleteHook] = []


def on_delete_of_any_subject(hook: DeleteHook) -> DeleteHook:
    """Register what a consumer does when a subject is deleted (use as a decorator).

    Everything that points at subjects (the engine's follow-ups, risks, comments) says here
    how it lets go, so the registry needs to know none of them. Hooks run in the deleting
    transaction, before the row goes; each gets the subject's registration (its
    ``on_delete`` policy) and the instance.
    """
    if hook not in _delete_hooks:
        _delete_hooks.append(hook)
    return hook


def _subject_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    entry = _BY_MODEL.get(sender)
    if entry is None:
        return
    for hook in list(_delete_hooks):
        hook(entry, instance)
