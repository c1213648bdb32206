"""Pages of the verification app (namespace "verification"): the features' routes,
joined: feeds, requests and reports, batch comparisons, spot-checks."""

from verification.batch.urls import urlpatterns as batch
from verification.feeds.urls import urlpatterns as feeds
from verification.requests.urls import urlpatterns as requests
from verification.spotcheck.urls import urlpatterns as spotchecks

app_name = "verification"
urlpatterns = [*feeds, *requests, *batch, *spotchecks]
