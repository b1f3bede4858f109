"""Comments and @mentions on any registered subject (``followup.kernel.subjects``).

Every app gets comments by registering its subjects: the engine stores them by subject key
and id, the page includes ``{% comments_panel obj %}``, the API has ``/api/v1/comments/``.

A mention is ``@`` and a member's name (or e-mail address) at the start of a word; the
mentioned members are notified through ``notifications.notify`` (kind
``comment.mentioned``), once per comment and person (the dedupe key), also when an edit
adds them later. Only people who are members when the text is saved can be mentioned:
someone removed from the organization is never notified.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.html import format_html, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import ApiKey, Membership, Organization, User
from followup.engine import notifications
from followup.engine.models import Comment, CommentRevision
from followup.kernel import events, subjects

MAX_BODY = 10_000
MENTION_KIND = "comment.mentioned"
EXCERPT = 140


# --- Mentions -------------------------------------------------------------------------------


def _names(user: User) -> list[str]:
    return [n for n in {user.name, user.display_name, user.email} if n]


def _mention_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """``@name`` at the start of a word (not inside an e-mail address), followed by a
    non-word character or the end; longest names first, so "@Ann Lee" beats "@Ann"."""
    ordered = sorted({n for n in names if n}, key=len, reverse=True)
    if not ordered:
        return None
    alternatives = "|".join(re.escape(n) for n in ordered)
    return re.compile(rf"(?<![\w@.])@({alternatives})(?![\w@])", re.IGNORECASE)


def mentioned(body: str, members: Iterable[User]) -> list[User]:
    """The members ``body`` mentions, in the order they first appear."""
    people = list(members)
    by_name: dict[str, User] = {}
    for person in people:
        for name in _names(person):
            by_name.setdefault(name.lower(), person)
    pattern = _mention_pattern(by_name)
    found: dict[Any, User] = {}
    if pattern is not None:
        for match in pattern.finditer(body):
            person = by_name[match.group(1).lower()]
            found.setdefault(person.pk, person)
    return list(found.values())


def members_of(org: Organization) -> list[User]:
    return [
        m.user
        for m in Membership.objects.for_org(org).select_related("user").filter(user__is_active=True)
    ]


def render_body(comment: Comment, people: dict[str, User]) -> SafeString:
    """The comment as HTML: escaped, URLs linked, line breaks kept, mentions marked."""
    named = [n for pk in comment.mentions or [] if (u := people.get(str(pk))) for n in _names(u)]
    pattern = _mention_pattern(named)
    text = comment.body.replace("\r\n", "\n")
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text) if pattern is not None else ():
        parts.append(urlize(text[last : match.start()], nofollow=True, autoescape=True))
        parts.append(format_html('<span class="mention">{}</span>', match.group(0)))
        last = match.end()
    parts.append(urlize(text[last:], nofollow=True, autoescape=True))
    # Every part is escaped already; only the line breaks become markup.
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308


# --- Reading --------------------------------------------------------------------------------


def subject_key(subject: models.Model) -> str:
    entry = subjects.for_model(type(subject))
    if entry is None:
        raise ValueError(f"{type(subject).__name__} is not a registered subject")
    return entry.key


def for_subject(org: Organization, subject: models.Model) -> QuerySet[Comment]:
    """A subject's comments, oldest first, with authors and earlier versions (3 queries)."""
    return (
        Comment.objects.for_org(org)
        .filter(subject_type=subject_key(subject), subject_id=subject.pk)
        .select_related("author", "deleted_by", "api_key")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=CommentRevision.objects.for_org(org).select_related("edited_by"),
            )
        )
        .order_by("created_at", "id")
    )


def mentioned_people(org: Organization, comments: Iterable[Comment]) -> dict[str, User]:
    """Everyone the comments mention, by id (one query for all of them)."""
    ids = {str(pk) for c in comments for pk in (c.mentions or [])}
    if not ids:
        return {}
    return {str(u.pk): u for u in User.objects.filter(pk__in=ids)}


def author_name(comment: Comment) -> str:
    if comment.author is not None:
        return comment.author.name
    return comment.author_label or _("Someone")


# --- Who may do what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """Who writes: a person (a page; or an API key acting for its creator) or a key alone.

    What they may do is the key's role through the API and the person's role in a page.
    """

    user: User | None
    api_key: ApiKey | None = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.name
        return f"API: {self.api_key.name}" if self.api_key is not None else ""

    def can(self, org: Organization, capability: str) -> bool:
        if self.api_key is not None:
            return self.api_key.can(capability)
        if self.user is None:
            return False
        membership = Membership.objects.for_org(org).filter(user=self.user).first()
        return membership is not None and membership.can(capability)


def _require(org: Organization, writer: Writer, capability: str) -> None:
    if not writer.can(org, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def is_authors(comment: Comment, writer: Writer) -> bool:
    if comment.author_id is not None:
        return writer.user is not None and comment.author_id == writer.user.pk
    return writer.api_key is not None and comment.api_key_id == writer.api_key.pk


def may_edit(comment: Comment, writer: Writer) -> bool:
    return not comment.is_deleted and is_authors(comment, writer)


def may_delete(comment: Comment, writer: Writer, *, moderator: bool) -> bool:
    """The author, or a manager (``records.delete``: ``moderator``) keeping a thread clean."""
    if comment.is_deleted:
        return False
    return is_authors(comment, writer) or moderator


# --- Writing --------------------------------------------------------------------------------


def _clean(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": _("Keep a comment under %(n)d characters.") % {"n": MAX_BODY}}
        )
    return body


def _subject_of(org: Organization, comment: Comment) -> models.Model | None:
    entry = subjects.get(comment.subject_type)
    if entry is None:
        return None
    scoped = entry.model.objects.for_org(org)  # type: ignore[attr-defined]
    if entry.related:
        scoped = scoped.select_related(*entry.related)
    subject: models.Model | None = scoped.filter(pk=comment.subject_id).first()
    return subject


def subject_url(org: Organization, comment: Comment, subject: models.Model | None = None) -> str:
    entry = subjects.get(comment.subject_type)
    subject = subject if subject is not None else _subject_of(org, comment)
    if entry is None or subject is None:
        return ""
    return f"{entry.url(subject)}#comment-{comment.pk}"


def attach_urls(org: Organization, rows: Iterable[Comment]) -> None:
    """Set ``url`` (the subject's page, at the comment) on each row: one query per type."""
    rows = list(rows)
    wanted: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        wanted.setdefault(row.subject_type, set()).add(row.subject_id)
    found: dict[tuple[str, uuid.UUID], str] = {}
    for key, ids in wanted.items():
        entry = subjects.get(key)
        if entry is None:
            continue
        scoped = entry.model.objects.for_org(org)  # type: ignore[attr-defined]
        if entry.related:
            scoped = scoped.select_related(*entry.related)
        for pk, subject in scoped.in_bulk(ids).items():
            found[(key, pk)] = entry.url(subject)
    for row in rows:
        path = found.get((row.subject_type, row.subject_id), "")
        row.url = f"{path}#comment-{row.pk}" if path else ""  # type: ignore[attr-defined]


def _payload(comment: Comment) -> dict[str, Any]:
    return {
        "id": str(comment.pk),
        "subject_type": comment.subject_type,
        "subject_id": str(comment.subject_id),
        "author": str(comment.author_id) if comment.author_id else None,
        "mentions": list(comment.mentions or []),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "deleted_at": comment.deleted_at.isoformat() if comment.deleted_at else None,
    }


def _notify_mentions(
    org: Organization, comment: Comment, people: list[User], subject: models.Model | None
) -> None:
    recipients = [p for p in people if p.pk != comment.author_id]
    if not recipients:
        return
    entry = subjects.get(comment.subject_type)
    title = entry.describe(subject) if entry is not None and subject is not None else ""
    excerpt = " ".join(comment.body.split())
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1] + "…"
    author = author_name(comment)
    for person in recipients:
        # One notification per comment and person, however often the text is edited.
        notifications.notify(
            org=org,
            recipients=[person],
            kind=MENTION_KIND,
            params={"author": author, "subject": title, "excerpt": excerpt},
            url=subject_url(org, comment, subject),
            subject=comment,
            dedupe_key=f"comment-mention:{comment.pk}:{person.pk}",
        )


def comment_post(*, org: Organization, writer: Writer, subject: models.Model, body: str) -> Comment:
    if getattr(subject, "organization_id", None) != org.pk:
        raise ValidationError({"subject_id": _("No such subject in this organization.")})
    key = subject_key(subject)
    body = _clean(body)
    _require(org, writer, "records.edit")
    people = mentioned(body, members_of(org))
    with transaction.atomic():
        comment = Comment.objects.create(
            organization=org,
            subject_type=key,
            subject_id=subject.pk,
            author=writer.user,
            api_key=writer.api_key if writer.user is None else None,
            author_label=writer.label[:200],
            body=body,
            mentions=[str(p.pk) for p in people],
        )
        events.record(
            org=org,
            type="comment.created",
            subject=comment,
            payload=_payload(comment),
            actor=writer.user,
        )
        _notify_mentions(org, comment, people, subject)
    return comment


def _locked(org: Organization, comment: Comment) -> Comment:
    return (
        Comment.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("author")
        .get(pk=comment.pk)
    )


def comment_edit(*, org: Organization, writer: Writer, comment: Comment, body: str) -> Comment:
    """Replace the text (the earlier one is kept); newly mentioned members are notified."""
    body = _clean(body)
    _require(org, writer, "records.edit")
    people = mentioned(body, members_of(org))
    with transaction.atomic():
        row = _locked(org, comment)
        if not may_edit(row, writer):
            raise PermissionDenied(_("Only its author can change a comment."))
        if row.body == body:
            return row
        before = row.body
        CommentRevision.objects.create(
            organization=org, comment=row, body=before, edited_by=writer.user
        )
        row.body = body
        row.mentions = [str(p.pk) for p in people]
        row.edited_at = timezone.now()
        row.save(update_fields=["body", "mentions", "edited_at"])
        events.record(
            org=org, type="comment.updated", subject=row, payload=_payload(row), actor=writer.user
        )
        audit.record(
            org=org,
            action="comment.updated",
            actor=writer.user,
            obj=row,
            changes={"body": [before, body]},
        )
        _notify_mentions(org, row, people, _subject_of(org, row))
    return row


def comment_delete(*, org: Organization, writer: Writer, comment: Comment) -> Comment:
    """Delete a comment: it stays in the thread as "deleted", without its text."""
    _require(org, writer, "records.edit")
    moderator = writer.can(org, "records.delete")
    with transaction.atomic():
        row = _locked(org, comment)
        if row.is_deleted:
            return row
        if not may_delete(row, writer, moderator=moderator):
            raise PermissionDenied(_("Only its author or a manager can delete a comment."))
        before = row.body
        CommentRevision.objects.create(
            organization=org, comment=row, body=before, edited_by=writer.user
        )
        row.deleted_at = timezone.now()
        row.deleted_by = writer.user
        row.body = ""
        row.mentions = []
        row.save(update_fields=["deleted_at", "deleted_by", "body", "mentions"])
        events.record(
            org=org, type="comment.deleted", subject=row, payload=_payload(row), actor=writer.user
        )
        audit.record(
            org=org,
            action="comment.deleted",
            actor=writer.user,
            obj=row,
            changes={"body": [before, None]},
        )
    return row


def comments_let_go(entry: subjects.SubjectType, instance: models.Model) -> None:
    """A subject is being deleted: its comments go with it (nothing left to read them on)."""
    org_id = getattr(instance, "organization_id", None)
    if org_id is None:
        return
    org = Organization.objects.get(pk=org_id)
    Comment.objects.for_org(org).filter(
        subject_type=entry.key, subject_id=uuid.UUID(str(instance.pk))
    ).delete()
