"""Pages of the risk register. Thin: forms in, services and selectors out.

The register (business risks, watched continuously, beside project risks, reviewed by
stage), a risk's page with its score history and indicator, the create and edit forms, the
5x5 matrix (organization-wide, per project, per customer), the FMEA worksheet of a project
(with its CSV) and the organization's risk settings.

One module per concern; ``risks.web.urls`` uses the names re-exported here.
"""

from risks.web.views.fmea import FmeaCsvView, FmeaSheetView
from risks.web.views.matrix import RiskMatrixView
from risks.web.views.register import (
    IndicatorValueView,
    RiskCreateView,
    RiskDetailView,
    RiskEditView,
    RiskListView,
    RiskTransitionView,
)
from risks.web.views.risk_settings import RiskSettingsView

__all__ = [
    "FmeaCsvView",
    "FmeaSheetView",
    "IndicatorValueView",
    "RiskCreateView",
    "RiskDetailView",
    "RiskEditView",
    "RiskListView",
    "RiskMatrixView",
    "RiskSettingsView",
    "RiskTransitionView",
]
