"""Pages of the verification app: feeds, requests and reports, batch comparisons."""

from verification.urls_batch import urlpatterns as batch
from verification.urls_feeds import urlpatterns as feeds
from verification.urls_requests import urlpatterns as requests
from verification.urls_spotcheck import urlpatterns as spotchecks

app_name = "verification"
urlpatterns = [*feeds, *requests, *batch, *spotchecks]
