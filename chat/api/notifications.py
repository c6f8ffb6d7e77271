"""Chat API: the notification centre (my notifications, the unread count, marking them read).

Everything here is the signed-in user's own: another person's notification answers 404, as if
it did not exist.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from chat import notifications
from core.pagination import FeedCursorPagination


class NotificationActorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    room_id = serializers.IntegerField(allow_null=True)
    data = serializers.JSONField()  # type: ignore[assignment]  # a field, not Serializer.data
    actor = NotificationActorOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationSummaryOutput(serializers.Serializer):
    unread_count = serializers.IntegerField()


class NotificationListApi(APIView):
    """My notifications, newest first, by cursor; ``?unread=1`` for the unread ones only."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.BOOL, description="Only the unread ones (1/true)."
            )
        ],
        responses=NotificationOutput(many=True),
        summary="My notifications",
    )
    def get(self, request: Request) -> Response:
        unread_only = request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        paginator = FeedCursorPagination()
        page = paginator.paginate_queryset(
            notifications.notification_feed(signed_in_user(request), unread_only=unread_only),
            request,
            view=self,
        )
        return paginator.get_paginated_response(
            NotificationOutput(
                [notifications.notification_payload(item) for item in page or []], many=True
            ).data
        )


class NotificationSummaryApi(APIView):
    """How many of my notifications are unread (the badge and the tab title)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=NotificationSummaryOutput, summary="My unread notification count")
    def get(self, request: Request) -> Response:
        count = notifications.notification_unread_count(signed_in_user(request))
        return Response(NotificationSummaryOutput({"unread_count": count}).data)


class NotificationReadApi(APIView):
    """Mark one of my notifications read (reading it again changes nothing)."""

    permission_classes = (IsAuthenticated,)

    class NotificationReadOutput(serializers.Serializer):
        notification = NotificationOutput()
        unread_count = serializers.IntegerField()

    @extend_schema(
        request=None, responses=NotificationReadOutput, summary="Mark a notification read"
    )
    def post(self, request: Request, notification_id: int) -> Response:
        user = signed_in_user(request)
        notification = notifications.notification_mark_read(
            user=user, notification_id=notification_id
        )
        return Response(
            self.NotificationReadOutput(
                {
                    "notification": notifications.notification_payload(notification),
                    "unread_count": notifications.notification_unread_count(user),
                }
            ).data
        )


class NotificationReadAllApi(APIView):
    """Mark all my notifications read, or only those of one room or of one thread's replies."""

    permission_classes = (IsAuthenticated,)

    class NotificationReadAllInput(serializers.Serializer):
        room_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        thread_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    class NotificationReadAllOutput(serializers.Serializer):
        marked = serializers.IntegerField()
        unread_count = serializers.IntegerField()

    @extend_schema(
        request=NotificationReadAllInput,
        responses=NotificationReadAllOutput,
        summary="Mark notifications read",
    )
    def post(self, request: Request) -> Response:
        data = self.NotificationReadAllInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        marked = notifications.notifications_mark_all_read(
            user=user,
            room_id=data.validated_data.get("room_id"),
            thread_id=data.validated_data.get("thread_id"),
        )
        return Response(
            self.NotificationReadAllOutput(
                {
                    "marked": marked,
                    "unread_count": notifications.notification_unread_count(user),
                }
            ).data
        )


urlpatterns = [
    path("notifications/", NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/summary/",
        NotificationSummaryApi.as_view(),
        name="notification-summary",
    ),
    path(
        "notifications/read-all/",
        NotificationReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
