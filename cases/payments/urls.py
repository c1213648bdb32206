"""Pages of the payment feature (cases.payments.views), under /cases/payments/."""

from django.urls import path

from cases.payments import views

urlpatterns = [
    path("payments/", views.roster_list, name="rosters"),
    path("payments/<int:roster_id>/", views.roster_detail, name="roster"),
    path("payments/<int:roster_id>/act/<str:step>/", views.roster_act, name="roster-act"),
    path(
        "payments/<int:roster_id>/bank/<slug:bank_code>.<str:form>",
        views.bank_file,
        name="roster-bank-file",
    ),
    path("payments/failed/", views.failed_lines, name="payments-failed"),
    path("payments/funds/", views.funds, name="funds"),
    path("payments/reconciliation/", views.reconciliations, name="reconciliations"),
    path(
        "payments/reconciliation/<int:reconciliation_id>/",
        views.reconciliation_detail,
        name="reconciliation",
    ),
    path(
        "payments/reconciliation/<int:reconciliation_id>/close/",
        views.reconciliation_close,
        name="reconciliation-close",
    ),
    path(
        "payments/reconciliation/<int:reconciliation_id>/statistics/",
        views.statistics_build,
        name="statistics-build",
    ),
    path(
        "payments/exceptions/<int:exception_id>/",
        views.exception_handle,
        name="exception-handle",
    ),
    path("payments/statistics/<int:statistics_id>/", views.statistics_detail, name="statistics"),
    path(
        "payments/households/<int:household_id>/account/",
        views.account_edit,
        name="payment-account",
    ),
]
