"""Input and output shapes of the CRM's pipelines, configuration, deal detail and timeline API.

Outputs render the dicts built by ``crm.pipelines``, ``crm.board``, ``crm.deal_selectors`` and
``crm.timeline_selectors`` (the same dicts the socket events carry). Inputs check types only;
the services check the rules (422 ``crm.invalid_field`` and friends).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import InputSerializer
from crm.models import CustomFieldKind

MAX_ID = 2**63 - 1
MAX_STAGES = 50
# A plain string, not an enum: the service names the allowed kinds in its 422.
KIND_HELP = ", ".join(CustomFieldKind.values) + "."


# --- Outputs ---------------------------------------------------------------------------------


class CrmRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CrmMemberOutput(CrmRefOutput):
    role = serializers.CharField(help_text="org_admin, agent or viewer.")


class CrmLabelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class CrmLostReasonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    active = serializers.BooleanField()


class CrmStageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    pipeline_id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()
    probability = serializers.IntegerField()
    is_won = serializers.BooleanField()
    is_lost = serializers.BooleanField()
    order = serializers.IntegerField()
    rotting_days = serializers.IntegerField(allow_null=True)


class CrmCustomFieldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField(help_text=KIND_HELP)
    choices = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()  # type: ignore[assignment]
    order = serializers.IntegerField()


class CrmPipelineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    order = serializers.IntegerField()
    restricted = serializers.BooleanField()
    archived = serializers.BooleanField()
    stages = CrmStageOutput(many=True)
    custom_fields = CrmCustomFieldOutput(many=True)


class CrmPipelineAccessOutput(serializers.Serializer):
    restricted = serializers.BooleanField()
    users = CrmRefOutput(many=True, help_text="Given the pipeline (org admins see it anyway).")


class CrmDealCardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    pipeline_id = serializers.IntegerField()
    stage_id = serializers.IntegerField()
    position = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    value = serializers.IntegerField(help_text="Centavos.")
    currency = serializers.CharField()
    probability = serializers.IntegerField(help_text="The deal's, else its stage's.")
    weighted_value = serializers.IntegerField(help_text="value * probability // 100.")
    status = serializers.CharField(help_text="open, won or lost.")
    owner = CrmRefOutput(allow_null=True)
    contact = CrmRefOutput(allow_null=True)
    company = CrmRefOutput(allow_null=True)
    expected_close_date = serializers.DateField(allow_null=True)
    labels = CrmLabelOutput(many=True)
    rotting = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class CrmDealPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CrmDealCardOutput(many=True)


class CrmDealContactOutput(CrmRefOutput):
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class CrmStageRefOutput(CrmRefOutput):
    color = serializers.CharField()


class CrmDealDetailOutput(CrmDealCardOutput):
    contact = CrmDealContactOutput(allow_null=True)  # type: ignore[assignment]
    custom_fields = serializers.DictField(help_text="By custom field key.")
    lost_reason = CrmRefOutput(allow_null=True)
    lost_note = serializers.CharField(allow_blank=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = CrmRefOutput(allow_null=True)
    stage_changed_at = serializers.DateTimeField()
    pipeline = CrmRefOutput()
    stage = CrmStageRefOutput()
    open_tasks = serializers.IntegerField()


class CrmConversationRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(allow_blank=True)
    channel = serializers.CharField()
    status = serializers.CharField()


class CrmCallRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class CrmTaskRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)


class CrmActivityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = CrmRefOutput(allow_null=True)
    body = serializers.CharField(allow_blank=True)
    data = serializers.DictField(help_text="Per kind: a stage change's from/to, the changes...")  # type: ignore[assignment]
    created_at = serializers.DateTimeField()
    deal_id = serializers.IntegerField(allow_null=True)
    contact_id = serializers.IntegerField(allow_null=True)
    lead_id = serializers.IntegerField(allow_null=True)
    conversation = CrmConversationRefOutput(allow_null=True)
    call = CrmCallRefOutput(allow_null=True)
    task = CrmTaskRefOutput(allow_null=True)


class CrmActivityPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CrmActivityOutput(many=True)


# --- Inputs ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class LooseIntegerField(serializers.JSONField):
    """A number the service checks itself (a value that is not an integer answers 422
    ``crm.invalid_value``, not a generic validation error)."""


class CrmArchivedQuery(InputSerializer):
    archived = serializers.BooleanField(required=False, default=False)


class CrmStageInput(InputSerializer):
    name = serializers.CharField(max_length=60)
    color = serializers.CharField(max_length=7, required=False)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    is_won = serializers.BooleanField(required=False)
    is_lost = serializers.BooleanField(required=False)
    rotting_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True
    )


class CrmStageCreateInput(CrmStageInput):
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_STAGES, required=False, allow_null=True, help_text="0 = first."
    )


class CrmStageUpdateInput(CrmStageInput):
    name = serializers.CharField(max_length=60, required=False)


class CrmStageDeleteInput(InputSerializer):
    move_to = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="The stage its deals move to (required when it has deals).",
    )


class CrmStagesReorderInput(InputSerializer):
    stage_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=MAX_STAGES
    )


class CrmPipelineCreateInput(InputSerializer):
    name = serializers.CharField(max_length=100)
    currency = serializers.CharField(max_length=3, required=False)
    restricted = serializers.BooleanField(required=False)
    stages = CrmStageInput(
        many=True, required=False, help_text="In order; omitted: the six default stages."
    )


class CrmPipelineUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    archived = serializers.BooleanField(required=False)


class CrmPipelineAccessInput(InputSerializer):
    restricted = serializers.BooleanField()
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=1000
    )


class CrmCustomFieldCreateInput(InputSerializer):
    label = serializers.CharField(max_length=60)  # type: ignore[assignment]
    kind = serializers.CharField(max_length=10, help_text=KIND_HELP)
    key = serializers.CharField(
        max_length=40, required=False, help_text="Defaults to one made from the label."
    )
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]


class CrmCustomFieldUpdateInput(InputSerializer):
    label = serializers.CharField(max_length=60, required=False)  # type: ignore[assignment]
    kind = serializers.CharField(max_length=10, required=False, help_text=KIND_HELP)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)


class CrmLostReasonInput(InputSerializer):
    name = serializers.CharField(max_length=100)


class CrmLostReasonUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    active = serializers.BooleanField(required=False)


class CrmLabelInput(InputSerializer):
    name = serializers.CharField(max_length=50)
    color = serializers.CharField(max_length=7, required=False)


class CrmLabelUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=50, required=False)
    color = serializers.CharField(max_length=7, required=False)


class CrmDealUpdateInput(InputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    value = LooseIntegerField(required=False, help_text="Centavos (an integer).")
    currency = serializers.CharField(max_length=3, required=False)
    probability = LooseIntegerField(
        required=False, allow_null=True, help_text="0 to 100; null: the stage's."
    )
    contact_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    company_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    owner_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    label_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
    )
    custom_fields = serializers.DictField(
        required=False, help_text="Merged into the deal's; null clears a field."
    )
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version edited (stale: 409)."
    )


class CrmDealWonInput(InputSerializer):
    version = serializers.IntegerField(min_value=1, required=False)


class CrmDealLostInput(InputSerializer):
    reason_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    version = serializers.IntegerField(min_value=1, required=False)


class CrmDealReopenInput(InputSerializer):
    stage_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="Default: the pipeline's first open stage.",
    )


class CrmNoteInput(InputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
