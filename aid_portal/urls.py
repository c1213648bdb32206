from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from aid_portal import api, views

api_patterns = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("regions/", api.RegionListView.as_view(), name="api-region-list"),
    path("regions/<str:code>/", api.RegionDetailView.as_view(), name="api-region-detail"),
    path("audit-events/", api.AuditEventListView.as_view(), name="api-audit-list"),
    path(
        "audit-events/<int:event_id>/", api.AuditEventDetailView.as_view(), name="api-audit-detail"
    ),
    path("auth/token/", api.TokenCreateView.as_view(), name="api-token"),
    path("", include("cases.api_urls")),
    path("", include("verification.api_urls")),
    path("", include("credit.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: the
    # Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/<int:event_id>/", views.audit_detail, name="audit-detail"),
    path("api-tokens/", views.api_token_list, name="api-token-list"),
    path("api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("exports/<int:job_id>/", views.export_job, name="export-job"),
    path("exports/<int:job_id>/download/", views.export_job_download, name="export-job-download"),
    path("healthz/", views.healthz, name="healthz"),
    path("cases/", include("cases.urls")),
    path("verification/", include("verification.urls")),
    path("credit/", include("credit.urls")),
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    # The public roster (公示): open to everyone, no login (cases.publicity.views).
    path("", include("cases.publicity.public_urls")),
]

# The API's 404 is JSON, also where no route matches (views.page_not_found).
handler404 = "aid_portal.views.page_not_found"
# Not a template-only 500: the database being away answers 503 (views.server_error).
handler500 = "aid_portal.views.server_error"
