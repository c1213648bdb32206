"""API routes of the verification app (under /api/): the features' routes, joined.
Only the spot-checks have an API (names api-spotcheck-*)."""

from verification.spotcheck.api_urls import urlpatterns as spotchecks

urlpatterns = [*spotchecks]
