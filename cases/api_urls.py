"""API routes of the cases app (under /api/): each feature's, joined. Names:
api-households-* and api-cases-*."""

from cases.casework.api_urls import urlpatterns as casework
from cases.intake.api_urls import urlpatterns as intake
from cases.payments.api_urls import urlpatterns as payments
from cases.publicity.api_urls import urlpatterns as publicity
from cases.reviews.api_urls import urlpatterns as reviews

urlpatterns = [*intake, *casework, *reviews, *payments, *publicity]
