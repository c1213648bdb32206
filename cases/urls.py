"""Pages of the cases app: each feature's routes, joined (cases.intake.urls,
cases.casework.urls, cases.printouts.urls: the printed documents, cases.reviews.urls,
cases.payments.urls, cases.publicity.urls: the public roster's staff pages,
cases.overview.urls: the case overview)."""

from cases.casework.urls import urlpatterns as casework
from cases.intake.urls import urlpatterns as intake
from cases.overview.urls import urlpatterns as overview
from cases.payments.urls import urlpatterns as payments
from cases.printouts.urls import urlpatterns as printouts
from cases.publicity.urls import urlpatterns as publicity
from cases.reviews.urls import urlpatterns as reviews

app_name = "cases"
urlpatterns = [*intake, *casework, *printouts, *reviews, *payments, *publicity, *overview]
