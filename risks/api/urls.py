from rest_framework.routers import SimpleRouter

from risks.api.review_views import RiskReviewViewSet
from risks.api.views import RiskMatrixViewSet, RiskViewSet

router = SimpleRouter()
router.register("risks", RiskViewSet, basename="risk")
router.register("risk-matrix", RiskMatrixViewSet, basename="risk-matrix")
router.register("risk-reviews", RiskReviewViewSet, basename="risk-review")

urlpatterns = router.urls
