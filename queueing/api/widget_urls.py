"""Support widget API routes for visitors (public key + signed visitor token)."""

from django.urls import URLPattern, path

from queueing.api import widget as views

urlpatterns: list[URLPattern] = [
    path("config/", views.WidgetConfigApi.as_view(), name="widget-config"),
    path("session/", views.WidgetSessionApi.as_view(), name="widget-session"),
    path("session/in-app/", views.WidgetSessionInAppApi.as_view(), name="widget-session-in-app"),
    path("conversations/", views.WidgetConversationsApi.as_view(), name="widget-conversations"),
    path(
        "conversations/<int:conversation_id>/",
        views.WidgetConversationApi.as_view(),
        name="widget-conversation",
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.WidgetMessagesApi.as_view(),
        name="widget-messages",
    ),
    path(
        "conversations/<int:conversation_id>/attachments/",
        views.WidgetAttachmentUploadApi.as_view(),
        name="widget-attachments",
    ),
    path(
        "conversations/<int:conversation_id>/csat/",
        views.WidgetCsatApi.as_view(),
        name="widget-csat",
    ),
    path(
        "conversations/<int:conversation_id>/transcript/",
        views.WidgetTranscriptApi.as_view(),
        name="widget-transcript",
    ),
    path(
        "attachments/<int:attachment_id>/",
        views.WidgetAttachmentFileApi.as_view(),
        name="widget-attachment-file",
    ),
    path("offline/", views.WidgetOfflineApi.as_view(), name="widget-offline"),
]
