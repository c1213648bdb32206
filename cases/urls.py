"""Pages of the cases app: each feature's routes, joined (cases.intake.urls,
cases.casework.urls, cases.reviews.urls)."""

from cases.casework.urls import urlpatterns as casework
from cases.intake.urls import urlpatterns as intake
from cases.reviews.urls import urlpatterns as reviews

app_name = "cases"
urlpatterns = [*intake, *casework, *reviews]
