"""Pages of the follow-up engine (``/o/<org_slug>/...``), one module per concern: follow-ups,
notifications and preferences, the calendar feed, webhooks, My day. Thin: services and
selectors do the work. The names are re-exported here for the URL modules."""

from followup.engine.web.views.calendar import CalendarView, calendar_feed
from followup.engine.web.views.followups import (
    CadencePreviewView,
    FollowUpActionView,
    FollowUpCreateView,
    FollowUpDetailView,
    FollowUpListView,
    TeamView,
)
from followup.engine.web.views.home import HomeView
from followup.engine.web.views.notifications import (
    BellView,
    NotificationReadView,
    NotificationsView,
    PreferencesView,
)
from followup.engine.web.views.webhooks import (
    EventDeliveriesView,
    EventDeliveryRetryView,
    WebhookDetailView,
    WebhookReplayView,
    WebhooksView,
)

__all__ = [
    "BellView",
    "CadencePreviewView",
    "CalendarView",
    "EventDeliveriesView",
    "EventDeliveryRetryView",
    "FollowUpActionView",
    "FollowUpCreateView",
    "FollowUpDetailView",
    "FollowUpListView",
    "HomeView",
    "NotificationReadView",
    "NotificationsView",
    "PreferencesView",
    "TeamView",
    "WebhookDetailView",
    "WebhookReplayView",
    "WebhooksView",
    "calendar_feed",
]
