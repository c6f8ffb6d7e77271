"""Calls API, media: ICE servers (STUN/TURN credentials), Agora tokens, encrypted messages.

Everything here is for the two participants of a call and nobody else: another user gets the
same 404 as a call that does not exist.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from calls import agora, ice, messages
from core import serializers as core_serializers

# Credentials and tokens are for this browser and this moment: never cached anywhere.
NO_STORE = {"Cache-Control": "no-store"}


class IceServerOutput(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(required=False)
    credential = serializers.CharField(required=False)


class IceServersOutput(serializers.Serializer):
    media_path = serializers.CharField()
    ice_servers = IceServerOutput(many=True)
    expires_at = serializers.DateTimeField()


class AgoraTokenOutput(serializers.Serializer):
    app_id = serializers.CharField()
    channel = serializers.CharField()
    uid = serializers.IntegerField()
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class CallMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.IntegerField()
    sender_id = serializers.IntegerField()
    ciphertext = serializers.CharField()
    iv = serializers.CharField()
    client_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class CallMessageInput(core_serializers.InputSerializer):
    ciphertext = serializers.CharField(
        max_length=messages.MAX_CIPHERTEXT_CHARS, trim_whitespace=False
    )
    iv = serializers.CharField(max_length=24, trim_whitespace=False)
    client_id = serializers.CharField(max_length=messages.MAX_CLIENT_ID_CHARS)


class CallIceServersApi(APIView):
    """STUN/TURN servers for a participant's browser, with short-lived TURN credentials."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        responses=IceServersOutput,
        summary="ICE servers for a call",
        description=(
            "For the two participants of a ringing, accepted or active call. TURN credentials "
            "are coturn REST API ones, valid until `expires_at`. Another user's call: 404; "
            "a call that is over: `calls.call_not_live` (409)."
        ),
    )
    def get(self, request: Request, call_id: int) -> Response:
        user = signed_in_user(request)
        call = messages.call_for_media(call_id=call_id, user=user)
        payload = ice.call_ice_servers(call=call, user=user)
        return Response(IceServersOutput(payload).data, headers=NO_STORE)


class CallAgoraTokenApi(APIView):
    """An Agora RTC token (AccessToken2) for a participant to join the call's channel."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        responses=AgoraTokenOutput,
        summary="Agora token for a call",
        description=(
            "For the two participants of a ringing, accepted or active call; the uid is the "
            "user's id. `calls.agora_unavailable` (503) when Agora is not configured. Another "
            "user's call: 404; a call that is over: `calls.call_not_live` (409)."
        ),
    )
    def get(self, request: Request, call_id: int) -> Response:
        user = signed_in_user(request)
        call = messages.call_for_media(call_id=call_id, user=user)
        payload = agora.call_agora_token(call=call, user=user)
        return Response(AgoraTokenOutput(payload).data, headers=NO_STORE)


class CallMessagesApi(APIView):
    """The end-to-end encrypted messages of a call: read them, or send one."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, description="Only messages with a greater id."
            )
        ],
        responses=CallMessageOutput(many=True),
        summary="A call's encrypted messages",
        description=(
            f"Oldest first, at most {messages.LIST_LIMIT}; page on with `after`. For the call's "
            "two participants (any status); anyone else: 404."
        ),
    )
    def get(self, request: Request, call_id: int) -> Response:
        after_param = request.query_params.get("after")
        after: int | None = None
        if after_param not in (None, ""):
            field = serializers.IntegerField(min_value=0)
            after = field.run_validation(after_param)
        rows = messages.call_messages_list(
            call_id=call_id, user=signed_in_user(request), after=after
        )
        return Response(
            CallMessageOutput([messages.message_payload(row) for row in rows], many=True).data
        )

    @extend_schema(
        request=CallMessageInput,
        responses={201: CallMessageOutput, 200: CallMessageOutput},
        summary="Send an encrypted message in a call",
        description=(
            "AES-GCM `ciphertext` and its 12-byte `iv`, base64; the server stores them as given "
            "and never sees the text. A retry with the same `client_id` answers 200 with the "
            "stored message. Accepted or active calls only (`calls.call_not_live`, 409); "
            "malformed content: `calls.invalid_message` (422)."
        ),
    )
    def post(self, request: Request, call_id: int) -> Response:
        data = CallMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = messages.call_message_send(
            call_id=call_id, user=signed_in_user(request), **data.validated_data
        )
        return Response(
            CallMessageOutput(messages.message_payload(message)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


urlpatterns = [
    path("calls/<int:call_id>/ice-servers/", CallIceServersApi.as_view(), name="call-ice-servers"),
    path("calls/<int:call_id>/agora-token/", CallAgoraTokenApi.as_view(), name="call-agora-token"),
    path("calls/<int:call_id>/messages/", CallMessagesApi.as_view(), name="call-messages"),
]
