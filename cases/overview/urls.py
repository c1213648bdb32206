"""The case overview, included under /cases/ in the "cases" namespace (cases.urls)."""

from django.urls import path

from cases.overview import views

urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("overview/<slug:table>.<slug:fmt>", views.overview_export, name="overview-export"),
]
