"""Calls API routes: each area of the API keeps its views and routes in its own module."""

from calls.api import catalog, lifecycle, media

app_name = "calls"

# Catalog first: its fixed paths (calls/me/..., calls/history/) must win over calls/<id>/.
urlpatterns = [
    *catalog.urlpatterns,
    *lifecycle.urlpatterns,
    *media.urlpatterns,
]
