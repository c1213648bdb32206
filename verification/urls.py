"""Pages of the verification app: feeds, requests and reports, batch comparisons."""

from verification.urls_batch import urlpatterns as batch
from verification.urls_feeds import urlpatterns as feeds
from verification.urls_requests import urlpatterns as requests

app_name = "verification"
urlpatterns = [*feeds, *requests, *batch]
