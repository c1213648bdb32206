"""API routes of the cases app (under /api/)."""

urlpatterns = []
