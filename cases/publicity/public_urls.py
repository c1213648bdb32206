"""The public roster's pages at the project root, open to everyone without login and
without a namespace; aid_portal.urls includes this module by name (the project package
never imports an app above it)."""

from django.urls import path

from cases.publicity import views

urlpatterns = [
    path(
        "public/township/<str:township_code>/<str:month>/",
        views.public_township,
        name="public-township",
    ),
    path("public/<str:village_code>/<str:month>/", views.public_village, name="public-roster"),
    path(
        "public/<str:village_code>/<str:month>/report/",
        views.public_report,
        name="public-report",
    ),
]
