"""Chat API routes: each area of the API keeps its views and routes in its own module."""

from chat.api import attachments, notifications, presence, rooms, search

app_name = "chat"

urlpatterns = [
    *rooms.urlpatterns,
    *attachments.urlpatterns,
    *search.urlpatterns,
    *presence.urlpatterns,
    *notifications.urlpatterns,
]
