"""Input and output shapes of the CRM's tasks, saved views, imports and exports.

Outputs render the dicts built by ``crm.reminders.task_data``, ``crm.saved_views.
saved_view_data`` and ``crm.imports.import_job_data`` (the same dicts the socket's
``crm.import.progress`` carries).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.serializers import InputSerializer
from crm.models import SavedViewMode

MAX_ID = 2**63 - 1
# Plain strings (checked by the services, 422): choice fields named "entity" with different
# choices would make clashing enum components in the schema.
SAVED_VIEW_ENTITIES = "deals, contacts, companies, leads or tasks."
IMPORT_ENTITIES = "contacts or deals."


# --- Outputs ---------------------------------------------------------------------------------


class CrmWorkUserRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CrmWorkDealRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class CrmWorkNamedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CrmTaskOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)
    due_at = serializers.DateTimeField()
    deal = CrmWorkDealRefOutput(allow_null=True)
    contact = CrmWorkNamedOutput(allow_null=True)
    lead = CrmWorkNamedOutput(allow_null=True)
    assignee = CrmWorkUserRefOutput()
    done_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField(help_text="Open and past its due time.")
    created_at = serializers.DateTimeField()


class CrmTaskPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CrmTaskOutput(many=True)


class CrmSavedViewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    entity = serializers.CharField(help_text=SAVED_VIEW_ENTITIES)
    mode = serializers.ChoiceField(choices=SavedViewMode.choices)
    filters = serializers.DictField(help_text="Filter keys of `crm.filtering`.")
    order = serializers.IntegerField()


class CrmImportErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="Data row, from 1 (the header row not counted).")
    field = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class CrmImportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    entity = serializers.CharField(help_text=IMPORT_ENTITIES)
    filename = serializers.CharField(allow_blank=True)
    status = serializers.CharField(help_text="uploaded, queued, running, done or failed.")
    pipeline_id = serializers.IntegerField(allow_null=True)
    mapping = serializers.DictField(child=serializers.CharField())
    total_rows = serializers.IntegerField()
    next_row = serializers.IntegerField(help_text="Rows done so far.")
    created_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = CrmImportErrorOutput(many=True, help_text="The first 200.")  # type: ignore[assignment]
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class CrmImportPreviewOutput(serializers.Serializer):
    headers = serializers.ListField(child=serializers.CharField(allow_blank=True))
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    suggested_mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text='Column -> field ("" ignored).'
    )


class CrmImportDetailOutput(CrmImportJobOutput):
    preview = CrmImportPreviewOutput(
        required=False, help_text="Only while the job is uploaded (before it starts)."
    )


class CrmImportPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CrmImportJobOutput(many=True)


# --- Inputs ----------------------------------------------------------------------------------


class CrmTaskCreateInput(InputSerializer):
    title = serializers.CharField(max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    due_at = serializers.DateTimeField()
    deal_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    contact_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    lead_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    assignee_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text=_("Me if none.")
    )


class CrmTaskUpdateInput(InputSerializer):
    title = serializers.CharField(required=False, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    due_at = serializers.DateTimeField(required=False)
    assignee_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class CrmSavedViewCreateInput(InputSerializer):
    name = serializers.CharField(max_length=80)
    entity = serializers.CharField(max_length=10, help_text=SAVED_VIEW_ENTITIES)
    mode = serializers.ChoiceField(choices=SavedViewMode.choices, required=False)
    filters = serializers.DictField(required=False)
    order = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class CrmSavedViewUpdateInput(InputSerializer):
    name = serializers.CharField(required=False, max_length=80)
    mode = serializers.ChoiceField(choices=SavedViewMode.choices, required=False)
    filters = serializers.DictField(required=False)
    order = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class CrmImportUploadInput(InputSerializer):
    entity = serializers.CharField(max_length=10, help_text=IMPORT_ENTITIES)
    file = serializers.FileField()
    pipeline_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )


class CrmImportStartInput(InputSerializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        help_text='Column header -> field (`name`, `email`, ..., `cf.<key>`; "" ignores it).',
    )
