"""A person's follow-ups as an iCalendar feed (RFC 5545), and its secret address.

The text format is built here rather than by a library because the subset is small and the
rules that clients trip over are few and testable: CRLF line ends, lines folded at 75
octets (never inside a UTF-8 sequence), TEXT values escaped, a DTSTAMP on every event, and a
UID that stays the same for a follow-up however often the feed is fetched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import rls
from accounts import selectors as people
from accounts.inputs import strip_controls
from accounts.models import Organization, User
from accounts.zones import token_digest
from followup.engine import feeds
from followup.engine.models import CalendarFeed, FollowUp, FollowUpStatus

TOKEN_PREFIX = "cal_"
EVENT_LENGTH = timedelta(minutes=30)


# --- RFC 5545 text (pure) -----------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped,
    and every other control character but tab dropped (RFC 5545 allows none in TEXT).

    Input refuses control characters already (``accounts.inputs``); this writer does not
    rely on it, so text stored before that rule, or by a path that skipped it, cannot
    break a client's calendar.
    """
    escaped = (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )
    return strip_controls(escaped)


def fold(line: str) -> str:
    """Fold a content line into CRLF + space continued pieces of at most 75 octets."""
    data = line.encode()
    if len(data) <= 75:
        return line
    pieces: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > limit:
            pieces.append(current.decode())
            current = b""
            limit = 74  # continuation lines start with one space
        current += encoded
    pieces.append(current.decode())
    return "\r\n ".join(pieces)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_end(start: datetime) -> datetime:
    """When the event of a follow-up due at ``start`` ends; at the very end of the
    calendar (no 30 minutes left) it ends where it starts rather than overflow."""
    try:
        return start + EVENT_LENGTH
    except OverflowError:
        return start


@dataclass(frozen=True)
class Entry:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    url: str
    modified: datetime
    sequence: int


def render(
    entries: Iterable[Entry], *, name: str, now: datetime, extra_lines: Iterable[str] = ()
) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Followup//Follow-ups//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + escape_text(name),
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for entry in entries:
        lines += [
            "BEGIN:VEVENT",
            "UID:" + entry.uid,
            "DTSTAMP:" + stamp(now),
            "DTSTART:" + stamp(entry.start),
            "DTEND:" + stamp(entry.end),
            "LAST-MODIFIED:" + stamp(entry.modified),
            f"SEQUENCE:{entry.sequence}",
            "SUMMARY:" + escape_text(entry.summary),
            "DESCRIPTION:" + escape_text(entry.description),
            "URL:" + entry.url,
            "STATUS:CONFIRMED",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines += extra_lines  # other apps' entries (followup.engine.feeds), already escaped
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()


# --- Feeds ----------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return token_digest(token)


def feed_create(*, org: Organization, user: User) -> str:
    """A new secret address for ``user`` in ``org``; any previous one stops working.

    Returns the plain token (only its hash is stored).
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        feed_revoke(org=org, user=user)
        CalendarFeed.objects.create(organization=org, user=user, token_hash=_hash(token))
    return token


def feed_revoke(*, org: Organization, user: User) -> int:
    return (
        CalendarFeed.objects.for_org(org)
        .filter(user=user, revoked_at__isnull=True)
        .update_versioned(revoked_at=timezone.now())
    )


def active_feed(org: Organization, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.for_org(org).filter(user=user, revoked_at__isnull=True).first()


def feed_by_token(token: str) -> CalendarFeed | None:
    """The active feed of this token. Cross-tenant by nature: the token is the credential."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.dangerously_unscoped()
        .across_orgs("calendar feed token")
        .select_related("organization", "user")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    # The token named the organization: the rest of the request runs as it.
    rls.enter_org(feed.organization_id)
    if not people.is_member(feed.organization, feed.user):
        return None  # a former member's address is gone, whatever happened to its row
    if feed.last_used_at is None or feed.last_used_at < timezone.now() - timedelta(hours=1):
        CalendarFeed.objects.for_org(feed.organization).filter(pk=feed.pk).update(
            last_used_at=timezone.now()
        )
    return feed


def feeds_delete(*, org: Organization, user: User) -> int:
    """``user`` left ``org``: their calendar addresses there, revoked or not, go."""
    deleted: int = CalendarFeed.objects.for_org(org).filter(user=user).delete()[0]
    return deleted


def feed_items(feed: CalendarFeed) -> list[FollowUp]:
    """The person's open follow-ups in the feed's organization (``feed_by_token`` checked
    that they are still a member there)."""
    org = feed.organization
    return list(
        FollowUp.objects.for_org(org)
        .filter(owner=feed.user, status=FollowUpStatus.OPEN)
        .order_by("due_at", "pk")[:1000]
    )


def feed_body(feed: CalendarFeed, *, base_url: str, host: str, now: datetime) -> bytes:
    from followup.engine.services import followup_path

    entries = []
    for item in feed_items(feed):
        url = base_url + followup_path(item)
        description = (item.notes + "\n\n" + url).strip()
        entries.append(
            Entry(
                uid=f"followup-{item.pk}@{host}",
                start=item.due_at,
                end=event_end(item.due_at),
                summary=item.title,
                description=description,
                url=url,
                modified=item.updated_at,
                sequence=item.version,
            )
        )
    extra = feeds.vevents(feed.organization, feed.user, base_url=base_url, host=host, now=now)
    return render(entries, name=f"Followup · {feed.organization.name}", now=now, extra_lines=extra)
