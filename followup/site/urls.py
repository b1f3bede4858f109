"""The URLconf: composes every app's pages and API resources.

Each app's ``urls`` module has ``urlpatterns`` (pages of a person, outside organizations)
and ``org_urlpatterns`` (pages mounted under ``/o/<org_slug>/``, resolved by
``accounts.mixins.OrgViewMixin``); its ``api.urls`` holds the REST resources.
"""

from __future__ import annotations

from types import ModuleType

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import accounts.web.urls
import engagements.web.urls
import followup.engine.web.urls
import projects.web.urls
import risks.web.urls
from accounts.web import views as accounts_views
from followup.engine.web import views as engine_views
from followup.site import views

ORG_PREFIX = "o/<slug:org_slug>/"


def app_urls(module: ModuleType) -> tuple[list[URLPattern | URLResolver], str]:
    patterns = list(getattr(module, "urlpatterns", []))
    org_patterns = getattr(module, "org_urlpatterns", [])
    if org_patterns:
        patterns.append(path(ORG_PREFIX, include(org_patterns)))
    return patterns, module.app_name


api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("followup.engine.api.urls")),
    path("", include("engagements.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("risks.api.urls")),
]

urlpatterns = [
    path("", accounts_views.HomeRedirectView.as_view(), name="root"),
    path(ORG_PREFIX, engine_views.HomeView.as_view(), name="home"),
    path("", include(app_urls(accounts.web.urls))),
    path("", include(app_urls(followup.engine.web.urls))),
    path("", include(app_urls(engagements.web.urls))),
    path("", include(app_urls(projects.web.urls))),
    path("", include(app_urls(risks.web.urls))),
    path("healthz", views.healthz, name="healthz"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.web_manifest, name="web_manifest"),
    path("csrf-token", views.csrf_token, name="csrf_token"),
    path("readyz", views.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI sets a few inline styles; scripts stay 'self' only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("api/", RedirectView.as_view(pattern_name="api-docs", permanent=False), name="api-root"),
    path("admin/", admin.site.urls),
]

handler400 = "followup.site.views.bad_request"
handler403 = "followup.site.views.permission_denied"
handler404 = "followup.site.views.page_not_found"
handler500 = "followup.site.views.server_error"
