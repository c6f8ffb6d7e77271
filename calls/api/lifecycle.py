"""Calls API, lifecycle: place a call, answer it, hang up, report media, the pro's switch.

Every command answers with the call as it is now (``CallOutput``). A call the user is not part
of is 404 (never 403); a command the call cannot take in its status (or from this side) is
``calls.invalid_transition`` (409, ``extra.status``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from accounts.models import User
from calls import selectors, services
from calls.api.serializers import CallOutput, CurrentCallOutput, ProfessionalStatusOutput
from calls.events import call_payload
from calls.models import Call
from core.serializers import InputSerializer
from wallet.idempotency import HEADER, idempotent_response

IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional: a retry with the same key gets the first answer, not a second call.",
)


def _output(call: Call) -> dict[str, Any]:
    return dict(CallOutput(call_payload(call)).data)


class CallRequestApi(APIView):
    """Call a professional now."""

    permission_classes = (IsAuthenticated,)

    class CallRequestInput(InputSerializer):
        professional_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=CallRequestInput,
        responses={201: CallOutput},
        summary="Call a professional",
        description=(
            "Rings the professional (their user id). Refused with `calls.self_call` (422), "
            "`accounts.email_not_verified`/`accounts.phone_not_verified` (403), "
            "`calls.professional_not_found` (404), `calls.professional_offline` (409), "
            "`calls.professional_busy` (409, `extra.can_queue`, `extra.queue_length`), "
            "`calls.already_in_call` (409), `calls.insufficient_balance` (409, "
            "`extra.required`, `extra.available`)."
        ),
    )
    def post(self, request: Request) -> Response:
        user = signed_in_user(request)
        data = self.CallRequestInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> tuple[int, dict[str, Any]]:
            call = services.call_request(
                client=user, professional_id=data.validated_data["professional_id"]
            )
            return status.HTTP_201_CREATED, _output(call)

        if request.headers.get(HEADER):
            return idempotent_response(request, run)
        code, body = run()
        return Response(body, status=code)


class CallCurrentApi(APIView):
    """The signed-in user's live call, on either side (null when there is none)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=CurrentCallOutput, summary="My live call")
    def get(self, request: Request) -> Response:
        call = selectors.call_live_for_user(user=signed_in_user(request))
        return Response({"call": _output(call) if call is not None else None})


class CallDetailApi(APIView):
    """One call the user took part in."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=CallOutput, summary="A call")
    def get(self, request: Request, call_id: int) -> Response:
        call = selectors.call_for_user(call_id=call_id, user=signed_in_user(request))
        return Response(_output(call))


Command = Callable[..., Call]


class _CallCommandApi(APIView):
    permission_classes = (IsAuthenticated,)
    command: Command

    def post(self, request: Request, call_id: int) -> Response:
        call = type(self).command(call_id=call_id, user=signed_in_user(request))
        return Response(_output(call))


_TRANSITION_ERRORS = (
    "A call the user is not part of is 404 `not_found`; a call that cannot take this command "
    "in its status, or from this side, is `calls.invalid_transition` (409, `extra.status`)."
)


class CallAcceptApi(_CallCommandApi):
    """The professional answers a ringing call."""

    command = staticmethod(services.call_accept)

    @extend_schema(
        request=None,
        responses=CallOutput,
        summary="Answer a call",
        description="The minimum fee is held from the client. A client who can no longer pay "
        "it fails the call (`failed`, `insufficient_funds`). " + _TRANSITION_ERRORS,
    )
    def post(self, request: Request, call_id: int) -> Response:
        return super().post(request, call_id)


class CallRejectApi(_CallCommandApi):
    """The professional declines a ringing call."""

    command = staticmethod(services.call_reject)

    @extend_schema(
        request=None, responses=CallOutput, summary="Decline a call", description=_TRANSITION_ERRORS
    )
    def post(self, request: Request, call_id: int) -> Response:
        return super().post(request, call_id)


class CallCancelApi(_CallCommandApi):
    """The client gives up before the media connected."""

    command = staticmethod(services.call_cancel)

    @extend_schema(
        request=None, responses=CallOutput, summary="Cancel a call", description=_TRANSITION_ERRORS
    )
    def post(self, request: Request, call_id: int) -> Response:
        return super().post(request, call_id)


class CallHangupApi(_CallCommandApi):
    """Either side hangs up."""

    command = staticmethod(services.call_hangup)

    @extend_schema(
        request=None,
        responses=CallOutput,
        summary="Hang up",
        description="Ends an active call, cancels one still connecting; while it rings the "
        "client's hang-up cancels it and the professional's declines it. " + _TRANSITION_ERRORS,
    )
    def post(self, request: Request, call_id: int) -> Response:
        return super().post(request, call_id)


class CallMediaApi(APIView):
    """A side reports whether its media (audio and video) is connected."""

    permission_classes = (IsAuthenticated,)

    class CallMediaInput(InputSerializer):
        connected = serializers.BooleanField()

    @extend_schema(
        request=CallMediaInput,
        responses=CallOutput,
        summary="Report media state",
        description="Both sides connected makes the call active (billing starts); a side "
        "dropping pauses billing for CALLS_DISCONNECT_GRACE_SECONDS. " + _TRANSITION_ERRORS,
    )
    def post(self, request: Request, call_id: int) -> Response:
        data = self.CallMediaInput(data=request.data)
        data.is_valid(raise_exception=True)
        call = services.call_media_report(
            call_id=call_id,
            user=signed_in_user(request),
            connected=data.validated_data["connected"],
        )
        return Response(_output(call))


class AcceptingApi(APIView):
    """The professional's switch: take calls now, or not."""

    permission_classes = (IsAuthenticated,)

    class AcceptingInput(InputSerializer):
        accepting = serializers.BooleanField()

    @extend_schema(
        request=AcceptingInput,
        responses=ProfessionalStatusOutput,
        summary="Take calls (on/off)",
        description="Professionals only (`calls.not_professional`, 403). The status is also "
        "offline while no socket of the professional is open.",
    )
    def post(self, request: Request) -> Response:
        user: User = signed_in_user(request)
        data = self.AcceptingInput(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.professional_accepting_set(
            user=user, accepting=data.validated_data["accepting"]
        )
        return Response(
            ProfessionalStatusOutput(
                {"status": profile.status, "accepting_calls": profile.accepting_calls}
            ).data
        )


urlpatterns: list[URLPattern] = [
    path("calls/", CallRequestApi.as_view(), name="call-request"),
    path("calls/current/", CallCurrentApi.as_view(), name="call-current"),
    path("calls/me/accepting/", AcceptingApi.as_view(), name="call-accepting"),
    path("calls/<int:call_id>/", CallDetailApi.as_view(), name="call-detail"),
    path("calls/<int:call_id>/accept/", CallAcceptApi.as_view(), name="call-accept"),
    path("calls/<int:call_id>/reject/", CallRejectApi.as_view(), name="call-reject"),
    path("calls/<int:call_id>/cancel/", CallCancelApi.as_view(), name="call-cancel"),
    path("calls/<int:call_id>/hangup/", CallHangupApi.as_view(), name="call-hangup"),
    path("calls/<int:call_id>/media/", CallMediaApi.as_view(), name="call-media"),
]
