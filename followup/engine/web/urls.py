"""The follow-up engine's pages. (``followup/urls.py`` is the project URLconf that composes
every app; this module is the ``followup`` app's own part of it.)"""

from django.urls import path

from followup.engine.web import bulk, comments, lists, search
from followup.engine.web import views as pages

app_name = "followup"

# Outside organizations: the secret token is the credential.
urlpatterns = [
    path("calendar/<str:token>.ics", pages.calendar_feed, name="calendar_feed"),
]

org_urlpatterns = [
    path("search/", search.SearchView.as_view(), name="search"),
    path("saved-views/", lists.SavedFilterCreateView.as_view(), name="saved_filter_create"),
    path(
        "saved-views/<uuid:pk>/delete/",
        lists.SavedFilterDeleteView.as_view(),
        name="saved_filter_delete",
    ),
    path("followups/", pages.FollowUpListView.as_view(), name="list"),
    path("followups/new/", pages.FollowUpCreateView.as_view(), name="create"),
    path("followups/cadence/", pages.CadencePreviewView.as_view(), name="cadence_preview"),
    path("followups/bulk/", bulk.FollowUpBulkView.as_view(), name="bulk"),
    path("bulk/<uuid:pk>/undo/", bulk.BulkUndoView.as_view(), name="bulk_undo"),
    path("comments/", comments.CommentCreateView.as_view(), name="comment_create"),
    path("comments/mentions/", comments.MentionSearchView.as_view(), name="mention_search"),
    path("comments/<uuid:pk>/edit/", comments.CommentEditView.as_view(), name="comment_edit"),
    path("comments/<uuid:pk>/delete/", comments.CommentDeleteView.as_view(), name="comment_delete"),
    path("followups/<uuid:pk>/", pages.FollowUpDetailView.as_view(), name="detail"),
    path(
        "followups/<uuid:pk>/<slug:action>/",
        pages.FollowUpActionView.as_view(),
        name="action",
    ),
    path("team/", pages.TeamView.as_view(), name="team"),
    path("notifications/", pages.NotificationsView.as_view(), name="notifications"),
    path("notifications/bell/", pages.BellView.as_view(), name="bell"),
    path(
        "notifications/<uuid:pk>/read/",
        pages.NotificationReadView.as_view(),
        name="notification_read",
    ),
    path("notifications/settings/", pages.PreferencesView.as_view(), name="preferences"),
    path("calendar/", pages.CalendarView.as_view(), name="calendar"),
    path("webhooks/", pages.WebhooksView.as_view(), name="webhooks"),
    path("webhooks/events/", pages.EventDeliveriesView.as_view(), name="event_deliveries"),
    path(
        "webhooks/events/<uuid:pk>/retry/",
        pages.EventDeliveryRetryView.as_view(),
        name="event_delivery_retry",
    ),
    path("webhooks/<uuid:pk>/", pages.WebhookDetailView.as_view(), name="webhook_detail"),
    path(
        "webhooks/deliveries/<uuid:pk>/replay/",
        pages.WebhookReplayView.as_view(),
        name="webhook_replay",
    ),
]
