"""Chat API: my chat settings (status, do-not-disturb, alerts), presence, and online time.

Presence and online time are organization-scoped: outsiders get 404, as if the organization
did not exist. Online time is every member's for org admins and one's own for everyone else.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import CanViewMembers
from accounts.api.views import signed_in_user
from chat import markup, online_time, presence
from chat.models import UserChatSettings
from core.serializers import InputSerializer

# --- serializers -------------------------------------------------------------------------------


class DndEntryInput(InputSerializer):
    day = serializers.IntegerField(min_value=0, max_value=6)
    start = serializers.CharField()
    end = serializers.CharField()

    def validate_start(self, value: str) -> str:
        if presence.minutes_of(value) is None:
            raise serializers.ValidationError(_("Use a time like 08:30."))
        return value

    def validate_end(self, value: str) -> str:
        if presence.minutes_of(value, end=True) is None:
            raise serializers.ValidationError(_("Use a time like 18:00 (or 24:00)."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH is partial, and DRF passes that on to nested entries: an entry still needs
        # all three of its fields.
        missing = [name for name in ("day", "start", "end") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [_("This field is required.")] for name in missing}
            )
        if presence.minutes_of(attrs["start"]) == presence.minutes_of(attrs["end"], end=True):
            raise serializers.ValidationError(_("The start and the end must differ."))
        return attrs


class ChatSettingsInput(InputSerializer):
    status_text = serializers.CharField(max_length=100, allow_blank=True, trim_whitespace=True)
    status_emoji = serializers.CharField(max_length=64, allow_blank=True)
    status_expires_at = serializers.DateTimeField(allow_null=True)
    dnd_until = serializers.DateTimeField(allow_null=True)
    dnd_schedule = serializers.ListField(
        child=DndEntryInput(), max_length=presence.DND_SCHEDULE_MAX_ENTRIES
    )
    sound_enabled = serializers.BooleanField()
    desktop_enabled = serializers.BooleanField()
    email_enabled = serializers.BooleanField()

    def validate_status_emoji(self, value: str) -> str:
        if value and not markup.is_emoji_code(value):
            raise serializers.ValidationError(_("Unknown emoji."))
        return value

    def _future(self, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("Choose a moment in the future."))
        return value

    def validate_status_expires_at(self, value: datetime.datetime | None) -> Any:
        return self._future(value)

    def validate_dnd_until(self, value: datetime.datetime | None) -> Any:
        return self._future(value)


class ChatSettingsOutput(serializers.Serializer):
    status_text = serializers.CharField()
    status_emoji = serializers.CharField()
    status_expires_at = serializers.DateTimeField(allow_null=True)
    dnd_until = serializers.DateTimeField(allow_null=True)
    dnd_schedule = serializers.JSONField()
    sound_enabled = serializers.BooleanField()
    desktop_enabled = serializers.BooleanField()
    email_enabled = serializers.BooleanField()
    dnd_active = serializers.BooleanField()


class PresenceOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=presence.STATES)
    status_text = serializers.CharField()
    status_emoji = serializers.CharField()
    dnd = serializers.BooleanField()


class OnlineTimeQuery(serializers.Serializer):
    to = serializers.DateField(required=False)
    user = serializers.IntegerField(required=False, min_value=1)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" is a Python keyword, so it cannot be a class attribute.
        fields["from"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        day_from, day_to = attrs.get("from"), attrs.get("to")
        if day_from is None or day_to is None:
            default_from, default_to = online_time.default_range(
                time_zone=self.context["time_zone"]
            )
            if day_to is None:
                day_to = (
                    default_to
                    if day_from is None
                    else day_from + datetime.timedelta(days=online_time.DEFAULT_RANGE_DAYS - 1)
                )
            if day_from is None:
                day_from = day_to - (default_to - default_from)
        if day_from > day_to:
            raise serializers.ValidationError({"from": [_("The start is after the end.")]})
        if (day_to - day_from).days + 1 > online_time.MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"to": [_("Ask for at most %(days)d days.") % {"days": online_time.MAX_RANGE_DAYS}]}
            )
        return {"day_from": day_from, "day_to": day_to, "user_id": attrs.get("user")}


class OnlineDayOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    day = serializers.DateField()
    online_seconds = serializers.IntegerField()
    active_seconds = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


# --- views -------------------------------------------------------------------------------------


def _settings_payload(chat_settings: UserChatSettings, time_zone: str) -> dict[str, Any]:
    now = timezone.now()
    text, emoji = presence.status_of(chat_settings, now=now)
    return dict(
        ChatSettingsOutput(
            {
                "status_text": text,
                "status_emoji": emoji,
                # An expired status reads as no status, with no expiry.
                "status_expires_at": chat_settings.status_expires_at if text or emoji else None,
                "dnd_until": chat_settings.dnd_until,
                "dnd_schedule": chat_settings.dnd_schedule,
                "sound_enabled": chat_settings.sound_enabled,
                "desktop_enabled": chat_settings.desktop_enabled,
                "email_enabled": chat_settings.email_enabled,
                "dnd_active": presence.dnd_active(chat_settings, now=now, time_zone=time_zone),
            }
        ).data
    )


class ChatSettingsApi(APIView):
    """My status, do-not-disturb (now, until a moment, weekly) and notification preferences."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=ChatSettingsOutput, summary="My chat settings")
    def get(self, request: Request) -> Response:
        user = signed_in_user(request)
        return Response(_settings_payload(presence.settings_for(user), user.time_zone))

    @extend_schema(
        request=ChatSettingsInput, responses=ChatSettingsOutput, summary="Change my chat settings"
    )
    def patch(self, request: Request) -> Response:
        user = signed_in_user(request)
        data = ChatSettingsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        chat_settings = presence.chat_settings_update(user=user, data=data.validated_data)
        return Response(_settings_payload(chat_settings, user.time_zone))


class PresenceListApi(APIView):
    """Presence of every member of the organization: online, away or offline, status, DND."""

    permission_classes = (CanViewMembers,)

    @extend_schema(responses=PresenceOutput(many=True), summary="Who is online")
    def get(self, request: Request, organization_id: int) -> Response:
        payloads = presence.presence_list_for_organization(organization_id=organization_id)
        return Response(PresenceOutput(payloads, many=True).data)


class OnlineTimeApi(APIView):
    """Online and active time per person and day, with the first and last moment seen.

    Days are the person's own calendar days. Org admins see every member; everyone else sees
    only themselves (asking for someone else answers 404).
    """

    permission_classes = (CanViewMembers,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (default: 6 days before to)."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (default: today)."),
            OpenApiParameter("user", OpenApiTypes.INT, description="Only this member."),
        ],
        responses=OnlineDayOutput(many=True),
        summary="Online time per member and day",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        query = OnlineTimeQuery(data=request.query_params, context={"time_zone": user.time_zone})
        query.is_valid(raise_exception=True)
        days = online_time.online_days_for_organization(
            membership=request.membership,  # type: ignore[attr-defined]
            **query.validated_data,
        )
        return Response(
            OnlineDayOutput(
                [
                    {
                        "user_id": day.user_id,
                        "name": day.user.get_full_name(),
                        "day": day.day,
                        "online_seconds": day.online_seconds,
                        "active_seconds": day.active_seconds,
                        "first_seen_at": day.first_seen_at,
                        "last_seen_at": day.last_seen_at,
                    }
                    for day in days
                ],
                many=True,
            ).data
        )


ORG = "organizations/<int:organization_id>"

urlpatterns: list[URLPattern] = [
    path("me/chat-settings/", ChatSettingsApi.as_view(), name="chat-settings"),
    path(f"{ORG}/presence/", PresenceListApi.as_view(), name="presence"),
    path(f"{ORG}/online-time/", OnlineTimeApi.as_view(), name="online-time"),
]
