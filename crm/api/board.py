"""CRM API: the kanban. The board's first page, the next pages of a column, creating a card
and moving one.

Under ``/api/v1/crm/<organization_id>/``. Outsiders, and pipelines the caller does not see,
get the same 404 ``crm.not_found``; viewers get 403 on writes. Each command validates its
input and calls one service (``crm.deals``), which checks again on the locked rows.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from crm import access, board, deals, filtering
from crm.api import board_serializers as serializers
from crm.api.permissions import IsCrmMember, IsCrmMemberReadingOrWriter, IsCrmWriter
from crm.api.pipeline_serializers import CrmDealCardOutput
from crm.api.pipelines import DealListApi
from crm.models import Deal

ACCESS_DOC = (
    "Outsiders and pipelines the caller does not see: 404 `crm.not_found`; viewers: 403 "
    "`crm.permission_denied` on writes."
)
FILTER_PARAMETERS = [
    OpenApiParameter("owner", OpenApiTypes.STR, description="A user id or `me`."),
    OpenApiParameter("label", OpenApiTypes.INT, many=True, description="Any of these labels."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "won", "lost"]),
    OpenApiParameter("value_min", OpenApiTypes.INT, description="Centavos."),
    OpenApiParameter("value_max", OpenApiTypes.INT, description="Centavos."),
    OpenApiParameter("created_from", OpenApiTypes.DATE),
    OpenApiParameter("created_to", OpenApiTypes.DATE),
    OpenApiParameter("close_from", OpenApiTypes.DATE, description="Expected close date."),
    OpenApiParameter("close_to", OpenApiTypes.DATE),
    OpenApiParameter("q", OpenApiTypes.STR, description="Title or contact name."),
]
FILTER_DOC = (
    " Filters as in `crm.filtering` (also `cf.<key>`, `cf.<key>__min`, `cf.<key>__max` for "
    "custom fields); a malformed one: 422 `crm.invalid_filter`. Totals always count every "
    "deal of the column."
)


def _card(deal: Deal) -> dict[str, Any]:
    card = board.card_by_id(deal.pk)
    if card is None:
        raise access.not_found()
    return card


def _filters(request: Request) -> dict[str, Any]:
    return filtering.filters_from_query("deals", request.query_params, user=request.user)


class BoardApi(APIView):
    """A pipeline's board: its stages, the first cards of every column and their totals."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "per_column",
                OpenApiTypes.INT,
                description=f"Cards per column, 1 to {board.MAX_PER_COLUMN} (default "
                f"{board.DEFAULT_PER_COLUMN}).",
            ),
            *FILTER_PARAMETERS,
        ],
        responses=serializers.CrmBoardOutput,
        operation_id="crm_board",
        summary="A pipeline's board",
        description="Cards by position; `next_cursor` fetches more of a column. "
        + FILTER_DOC
        + " "
        + ACCESS_DOC,
    )
    def get(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        user = signed_in_user(request)
        pipeline = access.pipeline_for(user, organization_id, pipeline_id)
        query = serializers.CrmBoardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            board.board_data(
                user=user,
                pipeline=pipeline,
                filters=_filters(request),
                per_column=query.validated_data["per_column"],
            )
        )


class ColumnPageApi(APIView):
    """More cards of one column, after a cursor from the board or the previous page."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="A `next_cursor`."),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"1 to {board.MAX_PER_COLUMN}."
            ),
            *FILTER_PARAMETERS,
        ],
        responses=serializers.CrmColumnPageOutput,
        operation_id="crm_board_column",
        summary="A column's next cards",
        description="A cursor this API did not give: 422 `crm.invalid_cursor`. "
        + FILTER_DOC
        + " "
        + ACCESS_DOC,
    )
    def get(
        self, request: Request, organization_id: int, pipeline_id: int, stage_id: int
    ) -> Response:
        user = signed_in_user(request)
        pipeline = access.pipeline_for(user, organization_id, pipeline_id)
        stage = board.stage_of(pipeline, stage_id)
        query = serializers.CrmColumnQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            board.column_page(
                pipeline=pipeline,
                stage=stage,
                cursor=query.validated_data.get("cursor") or None,
                filters=_filters(request),
                limit=query.validated_data["limit"],
                user=user,
            )
        )


@extend_schema_view(get=extend_schema(operation_id="crm_deals_list"))
class DealListCreateApi(DealListApi):
    """``deals/``: the deal list (GET, ``crm.api.pipelines.DealListApi``) and putting a new
    card on a board (POST). One route serves both, so both live on one view."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        request=serializers.CrmDealCreateInput,
        responses={201: CrmDealCardOutput},
        operation_id="crm_deal_create",
        summary="Create a deal",
        description=(
            "At the end of its stage's column (`at_top`: the top); the stage defaults to the "
            "pipeline's first. 422 `crm.invalid_value` (not a whole number of centavos), "
            "`crm.invalid_reference` (`extra.field`: an id outside the organization), "
            "`crm.invalid_title`, `crm.invalid_currency`, `crm.invalid_probability`, custom "
            "field errors (`crm.unknown_custom_field`, `crm.invalid_custom_field`, "
            "`crm.custom_field_required`). " + ACCESS_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.CrmDealCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        deal = deals.deal_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_card(deal), status=status.HTTP_201_CREATED)


class DealMoveApi(APIView):
    """Move a card: to a stage of its pipeline, between two neighbouring cards."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmDealMoveInput,
        responses={
            200: CrmDealCardOutput,
            409: OpenApiResponse(
                description="`crm.stale_move`: `extra.deal` is the current card, "
                "`extra.reason` `version` (changed meanwhile) or `neighbours` (they moved)."
            ),
            422: OpenApiResponse(
                description="`crm.invalid_stage`: not a stage of the deal's pipeline."
            ),
        },
        operation_id="crm_deal_move",
        summary="Move a deal",
        description=(
            "`before_id` is the card that ends up just above, `after_id` just below (neither: "
            "the end of the column). Send the card's `version` to be refused when someone "
            "changed it meanwhile. A won or lost stage closes the deal; leaving one reopens "
            "it. " + ACCESS_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmDealMoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        deal = deals.deal_move(
            actor=signed_in_user(request),
            deal_id=deal_id,
            organization_id=organization_id,
            stage_id=values["stage_id"],
            before_id=values.get("before_id"),
            after_id=values.get("after_id"),
            expected_version=values.get("version"),
        )
        return Response(_card(deal))


urlpatterns: list[URLPattern] = [
    path("pipelines/<int:pipeline_id>/board/", BoardApi.as_view(), name="crm-board"),
    path(
        "pipelines/<int:pipeline_id>/stages/<int:stage_id>/deals/",
        ColumnPageApi.as_view(),
        name="crm-board-column",
    ),
    path("deals/", DealListCreateApi.as_view(), name="crm-deals"),
    path("deals/<int:deal_id>/move/", DealMoveApi.as_view(), name="crm-deal-move"),
]
