"""Input and output shapes of the kanban API (the board, a column's pages, creating and
moving cards).

Outputs render the dicts built by ``crm.board`` (the same dicts ``crm.events`` sends); the
card, stage and pipeline shapes are shared with the pipelines API. Inputs check types only;
the services check the rules (422 ``crm.invalid_value``, ``crm.invalid_reference`` ...).
"""

from __future__ import annotations

from rest_framework import serializers

from core.serializers import InputSerializer
from crm.api.pipeline_serializers import (
    CrmDealCardOutput,
    CrmPipelineOutput,
    CrmStageOutput,
    LooseIntegerField,
)
from crm.board import DEFAULT_PER_COLUMN, MAX_PER_COLUMN

MAX_ID = 2**63 - 1
MAX_LABELS = 50


# --- Outputs ---------------------------------------------------------------------------------


class CrmStageTotalsOutput(serializers.Serializer):
    stage_id = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Every deal of the stage, any status.")
    value = serializers.IntegerField(help_text="Centavos.")
    weighted_value = serializers.IntegerField(help_text="Sum of value * probability // 100.")


class CrmBoardColumnOutput(serializers.Serializer):
    stage = CrmStageOutput()
    deals = CrmDealCardOutput(many=True, help_text="By position (then id).")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="The column's next page (stages/<id>/deals/?cursor=)."
    )
    totals = CrmStageTotalsOutput()


class CrmBoardOutput(serializers.Serializer):
    pipeline = CrmPipelineOutput()
    columns = CrmBoardColumnOutput(many=True, help_text="One per stage, in stage order.")


class CrmColumnPageOutput(serializers.Serializer):
    deals = CrmDealCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    totals = CrmStageTotalsOutput()


# --- Inputs ----------------------------------------------------------------------------------


class CrmBoardQuery(serializers.Serializer):
    # Not strict: the same query string carries the deal filters (crm.filtering).
    per_column = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_COLUMN, required=False, default=DEFAULT_PER_COLUMN
    )


class CrmColumnQuery(serializers.Serializer):
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_COLUMN, required=False, default=DEFAULT_PER_COLUMN
    )


def _id(**kwargs: object) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)  # type: ignore[arg-type]


class CrmDealCreateInput(InputSerializer):
    pipeline_id = _id()
    stage_id = _id(required=False, allow_null=True, help_text="Default: the first stage.")
    title = serializers.CharField(allow_blank=True, max_length=1000)
    value = LooseIntegerField(
        required=False, help_text="Centavos, a whole number (else 422 crm.invalid_value)."
    )
    currency = serializers.CharField(required=False, allow_null=True, max_length=10)
    probability = serializers.IntegerField(required=False, allow_null=True)
    contact_id = _id(required=False, allow_null=True)
    company_id = _id(required=False, allow_null=True)
    owner_id = _id(required=False, allow_null=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    label_ids = serializers.ListField(
        child=_id(), required=False, max_length=MAX_LABELS, allow_empty=True
    )
    custom_fields = serializers.DictField(required=False, help_text="By custom field key.")
    at_top = serializers.BooleanField(required=False, default=False)


class CrmDealMoveInput(InputSerializer):
    stage_id = _id()
    before_id = _id(required=False, allow_null=True, help_text="The card just above.")
    after_id = _id(required=False, allow_null=True, help_text="The card just below.")
    version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The version the client saw."
    )
