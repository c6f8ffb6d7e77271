"""Queue API routes: the marketplace queue, the support inbox and the support widget."""

from django.urls import include, path

from queueing.api import views

app_name = "queueing"

urlpatterns = [
    path(
        "queue/professionals/<int:professional_id>/join/",
        views.QueueJoinApi.as_view(),
        name="join",
    ),
    path("queue/mine/", views.QueueMineApi.as_view(), name="mine"),
    path("queue/entries/<int:entry_id>/leave/", views.QueueLeaveApi.as_view(), name="leave"),
    path("queue/entries/<int:entry_id>/accept/", views.QueueAcceptApi.as_view(), name="accept"),
    path("queue/entries/<int:entry_id>/decline/", views.QueueDeclineApi.as_view(), name="decline"),
    path("queue/professional/", views.ProfessionalQueueApi.as_view(), name="professional"),
    path("inbox/", include("queueing.api.inbox_urls")),
    path("widget/", include("queueing.api.widget_urls")),
]
