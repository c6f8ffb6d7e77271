"""CRM API: the BotConversa settings (org admins only), and the inbound endpoint its flows call.

Settings routes are under ``/api/v1/crm/<organization_id>/botconversa/``; outsiders get 404
``crm.not_found``, agents and viewers 403 ``crm.permission_denied``. The API key is write-only:
answers say ``api_key_set`` and its last 4 characters. The inbound endpoint,
``/webhooks/botconversa/<organization_id>/<token>/``, is open to anyone who knows the token
(``crm.webhook_urls``).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import botconversa
from crm.api import botconversa_serializers as serializers
from crm.api.permissions import IsCrmManager

TAG = ["crm-botconversa"]
ORG_DOC = "For org admins; others in the organization get 403, outsiders 404."


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/")


class BotConversaSettingsApi(APIView):
    """The organization's BotConversa connection."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        responses={200: serializers.ConnectionOutput},
        summary="BotConversa settings",
        description="The key is never returned (`api_key_set`, `api_key_last4`). " + ORG_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        data = botconversa.connection_get(
            actor=request.user, organization_id=organization_id, base_url=_base_url(request)
        )
        return Response(serializers.ConnectionOutput(data).data)

    @extend_schema(
        tags=TAG,
        request=serializers.ConnectionInput,
        responses={200: serializers.ConnectionOutput},
        summary="Change the BotConversa settings",
        description=(
            "Omitted fields stay as they are. `api_key` is stored encrypted; `crm.botconversa_"
            "invalid_url` or `crm.invalid_reference` (queue_id) are 422. " + ORG_DOC
        ),
    )
    def put(self, request: Request, organization_id: int) -> Response:
        data = serializers.ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        if "queue_id" not in values:
            values["queue_id"] = botconversa.UNCHANGED
        result = botconversa.connection_save(
            actor=request.user,
            organization_id=organization_id,
            base_url=_base_url(request),
            **values,
        )
        return Response(serializers.ConnectionOutput(result).data)


class BotConversaTestApi(APIView):
    """Try the saved key: list the account's tags and flows."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        request=None,
        responses={200: serializers.ConnectionTestOutput},
        summary="Test the BotConversa connection",
        description="`ok` false with a message when BotConversa refuses or fails. " + ORG_DOC,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        result = botconversa.connection_test(actor=request.user, organization_id=organization_id)
        return Response(serializers.ConnectionTestOutput(result).data)


class BotConversaTokenRotateApi(APIView):
    """A new secret for the inbound address (the old one stops working)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        request=None,
        responses={200: serializers.ConnectionOutput},
        summary="Rotate the inbound token",
        description=ORG_DOC,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        result = botconversa.token_rotate(
            actor=request.user, organization_id=organization_id, base_url=_base_url(request)
        )
        return Response(serializers.ConnectionOutput(result).data)


class BotConversaRuleListApi(APIView):
    """The sync rules: stages that add tags or start flows, tags that move deals."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        responses={200: serializers.RuleOutput(many=True)},
        summary="List BotConversa rules",
        description=ORG_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        rules = botconversa.rules_list(actor=request.user, organization_id=organization_id)
        return Response(serializers.RuleOutput(rules, many=True).data)

    @extend_schema(
        tags=TAG,
        request=serializers.RuleInput,
        responses={201: serializers.RuleOutput},
        summary="Create a BotConversa rule",
        description=(
            "`kind`: stage_adds_tag (tag_name), stage_starts_flow (flow_id), "
            "tag_moves_to_stage (tag_name). 422 `crm.botconversa_invalid_rule` or "
            "`crm.invalid_reference` with extra.field. " + ORG_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = botconversa.rule_create(
            actor=request.user, organization_id=organization_id, **data.validated_data
        )
        return Response(
            serializers.RuleOutput(botconversa.rule_data(rule)).data,
            status=status.HTTP_201_CREATED,
        )


class BotConversaRuleDeleteApi(APIView):
    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        responses={204: None},
        summary="Delete a BotConversa rule",
        description=ORG_DOC,
    )
    def delete(self, request: Request, organization_id: int, rule_id: int) -> Response:
        botconversa.rule_delete(
            actor=request.user, organization_id=organization_id, rule_id=rule_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotConversaDispatchListApi(APIView):
    """The calls made (or being made) to BotConversa, newest first."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        parameters=[
            OpenApiParameter("status", str, enum=["pending", "sent", "failed"], required=False)
        ],
        responses={200: serializers.DispatchOutput(many=True)},
        summary="List BotConversa dispatches",
        description=f"The latest {botconversa.DISPATCH_LIST_LIMIT}. " + ORG_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        dispatches = botconversa.dispatches_list(
            actor=request.user,
            organization_id=organization_id,
            status=request.query_params.get("status") or None,
        )
        return Response(
            serializers.DispatchOutput(
                [botconversa.dispatch_data(item) for item in dispatches], many=True
            ).data
        )


class BotConversaDispatchRetryApi(APIView):
    permission_classes = (IsCrmManager,)

    @extend_schema(
        tags=TAG,
        request=None,
        responses={200: serializers.DispatchOutput},
        summary="Retry a failed BotConversa dispatch",
        description="409 `crm.botconversa_not_failed` unless it failed. " + ORG_DOC,
    )
    def post(self, request: Request, organization_id: int, dispatch_id: int) -> Response:
        dispatch = botconversa.dispatch_for(
            actor=request.user, organization_id=organization_id, dispatch_id=dispatch_id
        )
        retried = botconversa.dispatch_retry(actor=request.user, dispatch=dispatch)
        retried.refresh_from_db()
        return Response(serializers.DispatchOutput(botconversa.dispatch_data(retried)).data)


class BotConversaInboundApi(APIView):
    """What BotConversa flows send (HTTP-request steps). Open: the token in the path is the
    gate, compared in constant time; a wrong token, organization or a disabled connection gets
    403 ``crm.botconversa_forbidden`` and nothing is written."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)
    # One account's flows may call in bursts; the token is the gate, not the anonymous rate.
    throttle_classes = ()

    @extend_schema(
        tags=TAG,
        request={"application/json": {"type": "object"}},
        responses={
            200: serializers.InboundOutput,
            403: OpenApiResponse(description="crm.botconversa_forbidden"),
            422: OpenApiResponse(description="crm.botconversa_invalid_payload (extra.field)"),
        },
        summary="BotConversa inbound events",
        description=(
            'Bodies: {"type": "message", "subscriber": {"id", "phone", "name"}, "message": '
            '{"id", "text"}}, {"type": "status", "subscriber", "status": "resolved"|"open"}, '
            '{"type": "tag", "subscriber", "tag"}; optional "event_id". Replays are ignored.'
        ),
    )
    def post(self, request: Request, organization_id: int, token: str) -> Response:
        result = botconversa.inbound_handle(
            organization_id=organization_id, token=token, payload=request.data
        )
        return Response(serializers.InboundOutput(result).data)


inbound_view = csrf_exempt(BotConversaInboundApi.as_view())

urlpatterns: list[URLPattern] = [
    path("botconversa/", BotConversaSettingsApi.as_view(), name="crm-botconversa"),
    path("botconversa/test/", BotConversaTestApi.as_view(), name="crm-botconversa-test"),
    path(
        "botconversa/rotate-token/",
        BotConversaTokenRotateApi.as_view(),
        name="crm-botconversa-rotate-token",
    ),
    path("botconversa/rules/", BotConversaRuleListApi.as_view(), name="crm-botconversa-rules"),
    path(
        "botconversa/rules/<int:rule_id>/",
        BotConversaRuleDeleteApi.as_view(),
        name="crm-botconversa-rule",
    ),
    path(
        "botconversa/dispatches/",
        BotConversaDispatchListApi.as_view(),
        name="crm-botconversa-dispatches",
    ),
    path(
        "botconversa/dispatches/<int:dispatch_id>/retry/",
        BotConversaDispatchRetryApi.as_view(),
        name="crm-botconversa-dispatch-retry",
    ),
]
