"""Credit pages, under /credit/ (namespace "credit")."""

from django.urls import path

from credit.findings import views
from credit.trust import urls as urls_trust

app_name = "credit"

urlpatterns = [
    path("findings/", views.findings, name="findings"),
    path("findings/new/", views.finding_new, name="finding-new"),
    path("findings/<int:finding_id>/", views.detail, name="finding"),
    path("findings/<int:finding_id>/notice/", views.notice, name="notice"),
    path("findings/<int:finding_id>/<str:action>/", views.act, name="act"),
    path("decisions/", views.decisions, name="decisions"),
    path("interviews/", views.interviews, name="interviews"),
    path("objections/", views.objections, name="objections"),
    path("repairs/", views.repairs, name="repairs"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/export/", views.outbox_export, name="outbox-export"),
    path("block-check/", views.block_check, name="block-check"),
    *urls_trust.urlpatterns,
]
