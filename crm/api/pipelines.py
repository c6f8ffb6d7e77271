"""CRM API: pipelines and their configuration (stages, custom fields, access), lost reasons,
labels, the organization's members, and deals outside the board (list, detail, edit, won,
lost, reopen, delete, timeline, notes).

Every route is under ``/api/v1/crm/<organization_id>/``. Anonymous callers get 401; people
outside the organization, and pipelines or deals the caller does not see (restricted
pipelines), get the same 404 ``crm.not_found``; a role that may not do something gets 403
``crm.permission_denied``. Each view validates its input and calls one service or selector;
the services check the rules again.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from core.pagination import FeedCursorPagination, PagePagination
from crm import access, deal_selectors, deals, filtering, notes, pipelines, timeline_selectors
from crm.api import pipeline_serializers as serializers
from crm.api.permissions import (
    IsCrmManager,
    IsCrmMember,
    IsCrmMemberReadingOrManager,
    IsCrmMemberReadingOrWriter,
    IsCrmWriter,
)
from crm.board import deal_card, label_data
from crm.models import Deal, Pipeline

REFUSALS = (
    "Outsiders, and pipelines or deals the caller does not see: 404 `crm.not_found`; a role "
    "that may not do this: 403 `crm.permission_denied`."
)


# --- Lookups and payloads --------------------------------------------------------------------


def _pipeline(request: Request, organization_id: int, pipeline_id: int) -> Pipeline:
    return access.pipeline_for(signed_in_user(request), organization_id, pipeline_id)


def _deal(request: Request, organization_id: int, deal_id: int) -> Deal:
    return access.deal_for(signed_in_user(request), organization_id, deal_id)


def _pipeline_payload(pipeline: Pipeline) -> dict[str, Any]:
    return dict(serializers.CrmPipelineOutput(pipelines.pipeline_data(pipeline)).data)


def _detail_payload(deal: Deal) -> dict[str, Any]:
    return dict(serializers.CrmDealDetailOutput(deal_selectors.deal_detail(deal)).data)


def _move_to(request: Request) -> int | None:
    # DELETE bodies are not always kept by clients and proxies: the query string works too.
    raw = request.data if isinstance(request.data, dict) and request.data else None
    data = serializers.CrmStageDeleteInput(
        data=raw if raw is not None else request.query_params.dict()
    )
    data.is_valid(raise_exception=True)
    return data.validated_data.get("move_to")


class ActivityCursorPagination(FeedCursorPagination):
    """Newest first, 50 a page (the id breaks ties)."""


# --- Pipelines -------------------------------------------------------------------------------


class PipelineListApi(APIView):
    """The pipelines I see; create one (org admins)."""

    permission_classes = (IsCrmMemberReadingOrManager,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "archived", OpenApiTypes.BOOL, description="1: the archived ones instead."
            )
        ],
        responses=serializers.CrmPipelineOutput(many=True),
        summary="Pipelines",
        description="In order, with stages and custom fields. " + REFUSALS,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = serializers.CrmArchivedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = pipelines.pipeline_list(
            user=signed_in_user(request),
            organization_id=organization_id,
            archived=query.validated_data["archived"],
        )
        return Response(
            serializers.CrmPipelineOutput(
                [pipelines.pipeline_data(item) for item in found], many=True
            ).data
        )

    @extend_schema(
        request=serializers.CrmPipelineCreateInput,
        responses={201: serializers.CrmPipelineOutput},
        summary="Create a pipeline",
        description=(
            "Without `stages`, the six default stages (New, Qualified, Proposal, Negotiation, "
            "Won, Lost) in the caller's language. A name in use: 409 `crm.name_taken`. " + REFUSALS
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.CrmPipelineCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = pipelines.pipeline_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_pipeline_payload(pipeline), status=status.HTTP_201_CREATED)


class PipelineDetailApi(APIView):
    """A pipeline; change or archive it (org admins)."""

    permission_classes = (IsCrmMemberReadingOrManager,)

    @extend_schema(
        responses=serializers.CrmPipelineOutput, summary="A pipeline", description=REFUSALS
    )
    def get(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        pipeline = pipelines.pipeline_get(
            user=signed_in_user(request), organization_id=organization_id, pipeline_id=pipeline_id
        )
        return Response(_pipeline_payload(pipeline))

    @extend_schema(
        request=serializers.CrmPipelineUpdateInput,
        responses=serializers.CrmPipelineOutput,
        summary="Change a pipeline",
        description="`archived: false` restores an archived pipeline. " + REFUSALS,
    )
    def patch(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        data = serializers.CrmPipelineUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = pipelines.pipeline_update(
            actor=signed_in_user(request),
            pipeline=_pipeline(request, organization_id, pipeline_id),
            **data.validated_data,
        )
        return Response(_pipeline_payload(pipeline))

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Archive a pipeline",
        description="Its deals stay. " + REFUSALS,
    )
    def delete(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        pipelines.pipeline_archive(
            actor=signed_in_user(request),
            pipeline=_pipeline(request, organization_id, pipeline_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineAccessApi(APIView):
    """Who may work on a restricted pipeline (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        responses=serializers.CrmPipelineAccessOutput,
        summary="A pipeline's access",
        description=REFUSALS,
    )
    def get(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        pipeline = _pipeline(request, organization_id, pipeline_id)
        return Response(
            serializers.CrmPipelineAccessOutput(pipelines.pipeline_access_data(pipeline)).data
        )

    @extend_schema(
        request=serializers.CrmPipelineAccessInput,
        responses=serializers.CrmPipelineAccessOutput,
        summary="Set a pipeline's access",
        description=(
            "`user_ids` replaces the list of people given the pipeline; someone outside the "
            "organization: 422 `crm.invalid_reference`. " + REFUSALS
        ),
    )
    def put(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        data = serializers.CrmPipelineAccessInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = _pipeline(request, organization_id, pipeline_id)
        granted = pipelines.pipeline_access_set(
            actor=signed_in_user(request), pipeline=pipeline, **data.validated_data
        )
        return Response(
            serializers.CrmPipelineAccessOutput(
                {
                    "restricted": data.validated_data["restricted"],
                    "users": [{"id": user.pk, "name": user.get_full_name()} for user in granted],
                }
            ).data
        )


# --- Stages ----------------------------------------------------------------------------------


class StageCreateApi(APIView):
    """Add a stage to a pipeline (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmStageCreateInput,
        responses={201: serializers.CrmStageOutput},
        summary="Add a stage",
        description="At `position` (0 = first), else last. " + REFUSALS,
    )
    def post(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        data = serializers.CrmStageCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        stage = pipelines.stage_create(
            actor=signed_in_user(request),
            pipeline=_pipeline(request, organization_id, pipeline_id),
            **data.validated_data,
        )
        return Response(
            serializers.CrmStageOutput(pipelines.stage_data(stage)).data,
            status=status.HTTP_201_CREATED,
        )


class StageDetailApi(APIView):
    """Change or delete a stage (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmStageUpdateInput,
        responses=serializers.CrmStageOutput,
        summary="Change a stage",
        description=(
            "A stage with deals keeps its won/lost flags: 409 `crm.stage_in_use`. " + REFUSALS
        ),
    )
    def patch(
        self, request: Request, organization_id: int, pipeline_id: int, stage_id: int
    ) -> Response:
        data = serializers.CrmStageUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = _pipeline(request, organization_id, pipeline_id)
        stage = pipelines.stage_update(
            actor=signed_in_user(request),
            stage=pipelines.stage_get(pipeline=pipeline, stage_id=stage_id),
            **data.validated_data,
        )
        return Response(serializers.CrmStageOutput(pipelines.stage_data(stage)).data)

    @extend_schema(
        request=serializers.CrmStageDeleteInput,
        parameters=[
            OpenApiParameter(
                "move_to", OpenApiTypes.INT, description="Or in the body: where its deals go."
            )
        ],
        responses={204: None},
        summary="Delete a stage",
        description=(
            "Its deals first move to the end of `move_to` (another stage of the pipeline: "
            "else 422 `crm.invalid_stage`), in their order. With deals and no `move_to`: 409 "
            "`crm.stage_in_use`; the only stage: 409 `crm.last_stage`. " + REFUSALS
        ),
    )
    def delete(
        self, request: Request, organization_id: int, pipeline_id: int, stage_id: int
    ) -> Response:
        move_to = _move_to(request)
        pipeline = _pipeline(request, organization_id, pipeline_id)
        pipelines.stage_delete(
            actor=signed_in_user(request),
            stage=pipelines.stage_get(pipeline=pipeline, stage_id=stage_id),
            move_to_stage_id=move_to,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class StagesReorderApi(APIView):
    """Put a pipeline's stages in a new order (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmStagesReorderInput,
        responses=serializers.CrmStageOutput(many=True),
        summary="Reorder stages",
        description="Every stage of the pipeline once (else 422 `crm.invalid_field`). " + REFUSALS,
    )
    def post(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        data = serializers.CrmStagesReorderInput(data=request.data)
        data.is_valid(raise_exception=True)
        ordered = pipelines.stages_reorder(
            actor=signed_in_user(request),
            pipeline=_pipeline(request, organization_id, pipeline_id),
            stage_ids=data.validated_data["stage_ids"],
        )
        return Response(
            serializers.CrmStageOutput(
                [pipelines.stage_data(stage) for stage in ordered], many=True
            ).data
        )


# --- Custom fields ---------------------------------------------------------------------------


class CustomFieldCreateApi(APIView):
    """Add a custom field to a pipeline's deals (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmCustomFieldCreateInput,
        responses={201: serializers.CrmCustomFieldOutput},
        summary="Add a custom field",
        description=(
            "A choice field needs distinct `choices`. A key in use: 409 "
            "`crm.custom_field_key_taken`. " + REFUSALS
        ),
    )
    def post(self, request: Request, organization_id: int, pipeline_id: int) -> Response:
        data = serializers.CrmCustomFieldCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        field = pipelines.custom_field_create(
            actor=signed_in_user(request),
            pipeline=_pipeline(request, organization_id, pipeline_id),
            **data.validated_data,
        )
        return Response(
            serializers.CrmCustomFieldOutput(pipelines.custom_field_data(field)).data,
            status=status.HTTP_201_CREATED,
        )


class CustomFieldDetailApi(APIView):
    """Change or delete a custom field (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmCustomFieldUpdateInput,
        responses=serializers.CrmCustomFieldOutput,
        summary="Change a custom field",
        description=(
            "While deals hold values, its kind stays and used choices stay: 409 "
            "`crm.custom_field_in_use`. " + REFUSALS
        ),
    )
    def patch(
        self, request: Request, organization_id: int, pipeline_id: int, field_id: int
    ) -> Response:
        data = serializers.CrmCustomFieldUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = _pipeline(request, organization_id, pipeline_id)
        field = pipelines.custom_field_update(
            actor=signed_in_user(request),
            field=pipelines.custom_field_get(pipeline=pipeline, field_id=field_id),
            **data.validated_data,
        )
        return Response(serializers.CrmCustomFieldOutput(pipelines.custom_field_data(field)).data)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Delete a custom field",
        description="Its values leave every deal. " + REFUSALS,
    )
    def delete(
        self, request: Request, organization_id: int, pipeline_id: int, field_id: int
    ) -> Response:
        pipeline = _pipeline(request, organization_id, pipeline_id)
        pipelines.custom_field_delete(
            actor=signed_in_user(request),
            field=pipelines.custom_field_get(pipeline=pipeline, field_id=field_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Lost reasons and labels -----------------------------------------------------------------


class LostReasonListApi(APIView):
    """The organization's lost reasons (inactive ones too); add one (org admins)."""

    permission_classes = (IsCrmMemberReadingOrManager,)

    @extend_schema(
        responses=serializers.CrmLostReasonOutput(many=True),
        summary="Lost reasons",
        description=REFUSALS,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        reasons = pipelines.lost_reason_list(organization_id=organization_id)
        return Response(
            serializers.CrmLostReasonOutput(
                [pipelines.lost_reason_data(item) for item in reasons], many=True
            ).data
        )

    @extend_schema(
        request=serializers.CrmLostReasonInput,
        responses={201: serializers.CrmLostReasonOutput},
        summary="Add a lost reason",
        description="A name in use: 409 `crm.name_taken`. " + REFUSALS,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.CrmLostReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = pipelines.lost_reason_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(
            serializers.CrmLostReasonOutput(pipelines.lost_reason_data(reason)).data,
            status=status.HTTP_201_CREATED,
        )


class LostReasonDetailApi(APIView):
    """Change or delete a lost reason (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmLostReasonUpdateInput,
        responses=serializers.CrmLostReasonOutput,
        summary="Change a lost reason",
        description=REFUSALS,
    )
    def patch(self, request: Request, organization_id: int, reason_id: int) -> Response:
        data = serializers.CrmLostReasonUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = pipelines.lost_reason_update(
            actor=signed_in_user(request),
            reason=pipelines.lost_reason_get(organization_id=organization_id, reason_id=reason_id),
            **data.validated_data,
        )
        return Response(serializers.CrmLostReasonOutput(pipelines.lost_reason_data(reason)).data)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Delete a lost reason",
        description="One deals were lost with: 409 `crm.lost_reason_in_use`. " + REFUSALS,
    )
    def delete(self, request: Request, organization_id: int, reason_id: int) -> Response:
        pipelines.lost_reason_delete(
            actor=signed_in_user(request),
            reason=pipelines.lost_reason_get(organization_id=organization_id, reason_id=reason_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelListApi(APIView):
    """The organization's labels; add one (agents and admins)."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        responses=serializers.CrmLabelOutput(many=True), summary="Labels", description=REFUSALS
    )
    def get(self, request: Request, organization_id: int) -> Response:
        labels = pipelines.label_list(organization_id=organization_id)
        return Response(
            serializers.CrmLabelOutput([label_data(item) for item in labels], many=True).data
        )

    @extend_schema(
        request=serializers.CrmLabelInput,
        responses={201: serializers.CrmLabelOutput},
        summary="Add a label",
        description="A name in use: 409 `crm.name_taken`. " + REFUSALS,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.CrmLabelInput(data=request.data)
        data.is_valid(raise_exception=True)
        label = pipelines.label_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(
            serializers.CrmLabelOutput(label_data(label)).data, status=status.HTTP_201_CREATED
        )


class LabelDetailApi(APIView):
    """Rename, recolour or delete a label (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.CrmLabelUpdateInput,
        responses=serializers.CrmLabelOutput,
        summary="Change a label",
        description=REFUSALS,
    )
    def patch(self, request: Request, organization_id: int, label_id: int) -> Response:
        data = serializers.CrmLabelUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        label = pipelines.label_update(
            actor=signed_in_user(request),
            label=pipelines.label_get(organization_id=organization_id, label_id=label_id),
            **data.validated_data,
        )
        return Response(serializers.CrmLabelOutput(label_data(label)).data)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Delete a label",
        description="It leaves every record. " + REFUSALS,
    )
    def delete(self, request: Request, organization_id: int, label_id: int) -> Response:
        pipelines.label_delete(
            actor=signed_in_user(request),
            label=pipelines.label_get(organization_id=organization_id, label_id=label_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    """The organization's members: who can own deals and be given a pipeline."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        responses=serializers.CrmMemberOutput(many=True),
        summary="CRM members",
        description="By name. " + REFUSALS,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(
            serializers.CrmMemberOutput(
                pipelines.member_list(organization_id=organization_id), many=True
            ).data
        )


# --- Deals -----------------------------------------------------------------------------------


class DealListApi(APIView):
    """The deals I see as a list, filtered."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter("pipeline", OpenApiTypes.INT),
            OpenApiParameter("stage", OpenApiTypes.INT),
            OpenApiParameter("owner", OpenApiTypes.STR, description="A user id or `me`."),
            OpenApiParameter("label", OpenApiTypes.INT, many=True),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "won", "lost"]),
            OpenApiParameter("value_min", OpenApiTypes.INT, description="Centavos."),
            OpenApiParameter("value_max", OpenApiTypes.INT, description="Centavos."),
            OpenApiParameter("created_from", OpenApiTypes.DATE),
            OpenApiParameter("created_to", OpenApiTypes.DATE),
            OpenApiParameter("close_from", OpenApiTypes.DATE),
            OpenApiParameter("close_to", OpenApiTypes.DATE),
            OpenApiParameter("q", OpenApiTypes.STR, description="Title, contact or company."),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (50)."),
        ],
        responses=serializers.CrmDealPageOutput,
        summary="Deals (list mode)",
        description=(
            "Newest first. `cf.<key>=value` filters on a custom field (`cf.<key>__min`, "
            "`__max` for numbers and dates). A bad filter: 422 `crm.invalid_filter`. " + REFUSALS
        ),
    )
    def get(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        found = deal_selectors.deals_list(
            user,
            organization_id,
            filtering.filters_from_query("deals", request.query_params, user=user),
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(found, request, view=self) or []
        return paginator.get_paginated_response(
            serializers.CrmDealCardOutput([deal_card(deal) for deal in page], many=True).data
        )


class DealDetailApi(APIView):
    """A deal with its details; edit it; delete it (org admins and its owner)."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        responses=serializers.CrmDealDetailOutput, summary="A deal", description=REFUSALS
    )
    def get(self, request: Request, organization_id: int, deal_id: int) -> Response:
        return Response(_detail_payload(_deal(request, organization_id, deal_id)))

    @extend_schema(
        request=serializers.CrmDealUpdateInput,
        responses=serializers.CrmDealDetailOutput,
        summary="Edit a deal",
        description=(
            "Only the fields sent change; `custom_fields` merge. A stale `version`: 409 "
            "`crm.stale_deal` with the current card in `extra.deal`. A value that is not an "
            "integer: 422 `crm.invalid_value`. " + REFUSALS
        ),
    )
    def patch(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmDealUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("version", None)
        deal = deals.deal_update(
            actor=signed_in_user(request),
            deal=_deal(request, organization_id, deal_id),
            expected_version=version,
            **fields,
        )
        return Response(_detail_payload(deal))

    @extend_schema(
        request=None, responses={204: None}, summary="Delete a deal", description=REFUSALS
    )
    def delete(self, request: Request, organization_id: int, deal_id: int) -> Response:
        deals.deal_delete(
            actor=signed_in_user(request), deal=_deal(request, organization_id, deal_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DealWonApi(APIView):
    """Mark a deal won (to the pipeline's first won stage, if it has one)."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmDealWonInput,
        responses=serializers.CrmDealDetailOutput,
        summary="Mark a deal won",
        description=REFUSALS,
    )
    def post(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmDealWonInput(data=request.data)
        data.is_valid(raise_exception=True)
        deal = deals.deal_mark_won(
            actor=signed_in_user(request),
            deal=_deal(request, organization_id, deal_id),
            expected_version=data.validated_data.get("version"),
        )
        return Response(_detail_payload(deal))


class DealLostApi(APIView):
    """Mark a deal lost, with a reason (required when the organization has active ones)."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmDealLostInput,
        responses=serializers.CrmDealDetailOutput,
        summary="Mark a deal lost",
        description=(
            "A reason that is not an active one of the organization: 422 "
            "`crm.invalid_lost_reason`. " + REFUSALS
        ),
    )
    def post(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmDealLostInput(data=request.data)
        data.is_valid(raise_exception=True)
        deal = deals.deal_mark_lost(
            actor=signed_in_user(request),
            deal=_deal(request, organization_id, deal_id),
            reason_id=data.validated_data.get("reason_id"),
            note=data.validated_data.get("note", ""),
            expected_version=data.validated_data.get("version"),
        )
        return Response(_detail_payload(deal))


class DealReopenApi(APIView):
    """Reopen a won or lost deal."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmDealReopenInput,
        responses=serializers.CrmDealDetailOutput,
        summary="Reopen a deal",
        description=REFUSALS,
    )
    def post(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmDealReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        deal = deals.deal_reopen(
            actor=signed_in_user(request),
            deal=_deal(request, organization_id, deal_id),
            stage_id=data.validated_data.get("stage_id"),
        )
        return Response(_detail_payload(deal))


class DealTimelineApi(APIView):
    """A deal's timeline: notes, stage changes, edits, tasks, conversations and calls."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`/`previous`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (50)."),
        ],
        responses=serializers.CrmActivityPageOutput,
        summary="A deal's timeline",
        description="Newest first, by cursor. " + REFUSALS,
    )
    def get(self, request: Request, organization_id: int, deal_id: int) -> Response:
        activities = timeline_selectors.timeline(deal=_deal(request, organization_id, deal_id))
        paginator = ActivityCursorPagination()
        page = paginator.paginate_queryset(activities, request, view=self) or []
        return paginator.get_paginated_response(
            serializers.CrmActivityOutput(
                [timeline_selectors.activity_data(item) for item in page], many=True
            ).data
        )


class DealNoteApi(APIView):
    """Write a note on a deal's timeline."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmNoteInput,
        responses={201: serializers.CrmActivityOutput},
        summary="Add a note to a deal",
        description="1 to 5000 characters (else 422 `crm.invalid_note`). " + REFUSALS,
    )
    def post(self, request: Request, organization_id: int, deal_id: int) -> Response:
        data = serializers.CrmNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        activity = notes.note_add(
            actor=signed_in_user(request),
            deal=_deal(request, organization_id, deal_id),
            body=data.validated_data["body"],
        )
        return Response(
            serializers.CrmActivityOutput(timeline_selectors.activity_data(activity)).data,
            status=status.HTTP_201_CREATED,
        )


PIPELINE = "pipelines/<int:pipeline_id>/"
DEAL = "deals/<int:deal_id>/"

urlpatterns: list[URLPattern] = [
    path("pipelines/", PipelineListApi.as_view(), name="crm-pipelines"),
    path(PIPELINE, PipelineDetailApi.as_view(), name="crm-pipeline"),
    path(f"{PIPELINE}access/", PipelineAccessApi.as_view(), name="crm-pipeline-access"),
    path(f"{PIPELINE}stages/", StageCreateApi.as_view(), name="crm-stages"),
    path(f"{PIPELINE}stages/reorder/", StagesReorderApi.as_view(), name="crm-stages-reorder"),
    path(f"{PIPELINE}stages/<int:stage_id>/", StageDetailApi.as_view(), name="crm-stage"),
    path(f"{PIPELINE}custom-fields/", CustomFieldCreateApi.as_view(), name="crm-custom-fields"),
    path(
        f"{PIPELINE}custom-fields/<int:field_id>/",
        CustomFieldDetailApi.as_view(),
        name="crm-custom-field",
    ),
    path("lost-reasons/", LostReasonListApi.as_view(), name="crm-lost-reasons"),
    path("lost-reasons/<int:reason_id>/", LostReasonDetailApi.as_view(), name="crm-lost-reason"),
    path("labels/", LabelListApi.as_view(), name="crm-labels"),
    path("labels/<int:label_id>/", LabelDetailApi.as_view(), name="crm-label"),
    path("members/", MemberListApi.as_view(), name="crm-members"),
    # GET deals/ (this list) and POST deals/ are one route, served by crm.api.board's
    # DealListCreateApi (a DealListApi that also creates).
    path(DEAL, DealDetailApi.as_view(), name="crm-deal"),
    path(f"{DEAL}won/", DealWonApi.as_view(), name="crm-deal-won"),
    path(f"{DEAL}lost/", DealLostApi.as_view(), name="crm-deal-lost"),
    path(f"{DEAL}reopen/", DealReopenApi.as_view(), name="crm-deal-reopen"),
    path(f"{DEAL}timeline/", DealTimelineApi.as_view(), name="crm-deal-timeline"),
    path(f"{DEAL}notes/", DealNoteApi.as_view(), name="crm-deal-notes"),
]
