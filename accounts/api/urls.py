from rest_framework.routers import SimpleRouter

from accounts.api.views import ApiKeyViewSet, MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = router.urls
