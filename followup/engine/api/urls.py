from rest_framework.routers import SimpleRouter

from followup.engine.api.comments import CommentViewSet
from followup.engine.api.followups import FollowUpViewSet
from followup.engine.api.notifications import NotificationViewSet
from followup.engine.api.webhooks import WebhookViewSet

router = SimpleRouter()
router.register("followups", FollowUpViewSet, basename="followup")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("comments", CommentViewSet, basename="comment")

urlpatterns = router.urls
