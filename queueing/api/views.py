"""Queue API: join a busy professional's line, see my place, leave, take or pass my turn;
professionals see their line. One view per command; the services hold every rule."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from queueing import selectors, services
from queueing.api import serializers
from queueing.api.permissions import IsProfessional
from queueing.models import MarketplaceQueueEntry
from wallet.idempotency import HEADER, idempotent_response

IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional: a retry with the same key gets the first answer, never a second hold.",
)


def _entry_json(entry: MarketplaceQueueEntry) -> dict[str, Any]:
    """The entry's payload as JSON-ready data (the same text live, replayed or stored)."""
    return dict(serializers.QueueEntryOutput(selectors.entry_payload(entry)).data)


class QueueJoinApi(APIView):
    """Join a busy professional's queue: the queue fee is held until the turn comes."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: serializers.QueueEntryOutput},
        summary="Join a professional's queue",
    )
    def post(self, request: Request, professional_id: int) -> Response:
        def run() -> tuple[int, dict[str, Any]]:
            entry = services.queue_join(
                client=signed_in_user(request), professional_id=professional_id
            )
            return status.HTTP_201_CREATED, _entry_json(entry)

        if request.headers.get(HEADER):
            return idempotent_response(request, run)
        code, body = run()
        return Response(body, status=code)


class QueueMineApi(APIView):
    """My open queue entries with their positions: what the queue screen reads on (re)connect."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.QueueEntryOutput(many=True), summary="My queue entries")
    def get(self, request: Request) -> Response:
        payloads = selectors.client_entry_payloads(client=signed_in_user(request))
        return Response(serializers.QueueEntryOutput(payloads, many=True).data)


class QueueLeaveApi(APIView):
    """Leave the queue: the held fee is released."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.QueueEntryOutput, summary="Leave a queue")
    def post(self, request: Request, entry_id: int) -> Response:
        entry = services.queue_leave(client=signed_in_user(request), entry_id=entry_id)
        return Response(_entry_json(entry))


class QueueAcceptApi(APIView):
    """Take my offered turn: the call starts, and the queue fee counts toward it."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=None, responses=serializers.QueueAcceptOutput, summary="Take my turn (start call)"
    )
    def post(self, request: Request, entry_id: int) -> Response:
        from calls.events import call_payload

        entry, call = services.queue_offer_accept(client=signed_in_user(request), entry_id=entry_id)
        return Response(
            serializers.QueueAcceptOutput(
                {"entry": selectors.entry_payload(entry), "call": call_payload(call)}
            ).data
        )


class QueueDeclineApi(APIView):
    """Pass on my offered turn: the fee is released and the next in line is offered."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.QueueEntryOutput, summary="Pass my turn")
    def post(self, request: Request, entry_id: int) -> Response:
        entry = services.queue_offer_decline(client=signed_in_user(request), entry_id=entry_id)
        return Response(_entry_json(entry))


class ProfessionalQueueApi(APIView):
    """The signed-in professional's queue: its length and who waits, first first."""

    permission_classes = (IsProfessional,)

    @extend_schema(responses=serializers.ProfessionalQueueOutput, summary="My queue (professional)")
    def get(self, request: Request) -> Response:
        return Response(selectors.professional_queue(professional_id=signed_in_user(request).pk))
