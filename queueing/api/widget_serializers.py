"""Input and output shapes of the support widget's API (visitors, never staff)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from core import serializers as core_serializers


class WidgetContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()


class WidgetSessionInput(core_serializers.InputSerializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class WidgetSessionOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Visitor <token>`.")
    contact = WidgetContactOutput()


class WidgetWeeklyHoursOutput(serializers.Serializer):
    day = serializers.IntegerField(help_text="Monday is 0.")
    start = serializers.CharField()
    end = serializers.CharField()


class WidgetDepartmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    open_now = serializers.BooleanField()
    time_zone = serializers.CharField(allow_null=True)
    weekly_hours = WidgetWeeklyHoursOutput(many=True)
    holidays = serializers.ListField(child=serializers.CharField())
    next_opening = serializers.DateTimeField(allow_null=True)


class WidgetConfigOutput(serializers.Serializer):
    title = serializers.CharField()
    greeting = serializers.CharField()
    color = serializers.CharField()
    open_now = serializers.BooleanField()
    departments = WidgetDepartmentOutput(many=True)
    ws_url = serializers.CharField()
    api_url = serializers.CharField()


class WidgetConversationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    assignee_name = serializers.CharField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)
    csat_requested = serializers.BooleanField()
    rated = serializers.BooleanField()


class WidgetConversationStartInput(core_serializers.InputSerializer):
    department_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    body = serializers.CharField(allow_blank=False, trim_whitespace=True)
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)


class WidgetAttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)


class WidgetAuthorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class WidgetMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    kind = serializers.CharField()
    body = serializers.CharField()
    html = serializers.CharField()
    by_contact = serializers.BooleanField()
    author = WidgetAuthorOutput(allow_null=True)
    attachments = WidgetAttachmentOutput(many=True)
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField(allow_null=True)


class WidgetMessagePageOutput(serializers.Serializer):
    results = WidgetMessageOutput(many=True)
    has_more = serializers.BooleanField()


class WidgetMessagesQuery(core_serializers.InputSerializer):
    after = serializers.IntegerField(required=False, min_value=0)
    before = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)


class WidgetMessageSendInput(core_serializers.InputSerializer):
    body = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        default="",
        max_length=settings.CHAT_MESSAGE_MAX_LENGTH * 2,
    )
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=10, required=False, default=list
    )


class WidgetAttachmentUploadInput(core_serializers.InputSerializer):
    file = serializers.FileField(allow_empty_file=True)
    duration_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class WidgetCsatInput(core_serializers.InputSerializer):
    rating = serializers.IntegerField(help_text="1 to 5.")
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class WidgetCsatOutput(serializers.Serializer):
    rating = serializers.IntegerField()
    comment = serializers.CharField()


class WidgetTranscriptInput(core_serializers.InputSerializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class WidgetTranscriptOutput(serializers.Serializer):
    email = serializers.CharField()


class WidgetOfflineInput(core_serializers.InputSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    department_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    body = serializers.CharField()


class WidgetOfflineOutput(serializers.Serializer):
    token = serializers.CharField()
    contact = WidgetContactOutput()
    conversation = WidgetConversationOutput()
