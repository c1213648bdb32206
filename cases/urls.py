"""Pages of the cases app: intake (cases.urls_intake) and casework (cases.urls_casework)."""

from cases.urls_casework import urlpatterns as casework
from cases.urls_intake import urlpatterns as intake

app_name = "cases"
urlpatterns = [*intake, *casework]
