"""Input and output shapes of the staff inbox API.

Outputs render the dicts built by ``queueing.inbox_events`` / ``queueing.inbox_selectors``
(``ConversationData``, the support message payload), the same dicts the socket events carry,
so a client merges an event and a REST answer alike.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.serializers import InputSerializer
from queueing.models import (
    AgentAvailability,
    ConversationPriority,
    ConversationStatus,
    RoutingStrategy,
)

MAX_ATTACHMENTS = 10
MAX_LABELS = 20
MAX_SKILLS = 50
MAX_ORIGINS = 50
MAX_ID = 2**63 - 1


# --- Outputs ---------------------------------------------------------------------------------


class InboxNamedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InboxContactBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()


class InboxSlaTimerOutput(serializers.Serializer):
    status = serializers.CharField(help_text="none, active, met or breached.")
    due_at = serializers.DateTimeField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True, help_text="When it was met (or breached).")


class InboxSlaOutput(serializers.Serializer):
    first_response = InboxSlaTimerOutput()
    resolution = InboxSlaTimerOutput()


class InboxCsatOutput(serializers.Serializer):
    rating = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)


class InboxConversationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organization_id = serializers.IntegerField()
    contact = InboxContactBriefOutput()
    channel = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.IntegerField(help_text="0 low, 1 normal, 2 high, 3 urgent.")
    labels = serializers.ListField(child=serializers.CharField())
    subject = serializers.CharField(allow_blank=True)
    queue = InboxNamedOutput()
    department = InboxNamedOutput()
    assignee = InboxNamedOutput(allow_null=True)
    assigned_at = serializers.DateTimeField(allow_null=True)
    waiting_since = serializers.DateTimeField(allow_null=True)
    snoozed_until = serializers.DateTimeField(allow_null=True)
    offline = serializers.BooleanField()
    sla = InboxSlaOutput()
    last_message_at = serializers.DateTimeField(allow_null=True)
    last_message_preview = serializers.CharField(allow_blank=True, allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    csat = InboxCsatOutput(allow_null=True)


class InboxConversationPageOutput(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="The next page's URL (a cursor).")
    previous = serializers.CharField(allow_null=True)
    results = InboxConversationOutput(many=True)


class InboxAuthorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class InboxAttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)


class InboxMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    kind = serializers.CharField(help_text="text, note (staff only), system or voice.")
    body = serializers.CharField(allow_blank=True)
    html = serializers.CharField(allow_blank=True)
    by_contact = serializers.BooleanField()
    author = InboxAuthorOutput(allow_null=True)
    attachments = InboxAttachmentOutput(many=True)
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField(allow_null=True)


class InboxMessagePageOutput(serializers.Serializer):
    results = InboxMessageOutput(many=True)
    has_more = serializers.BooleanField()


class InboxEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = InboxNamedOutput(allow_null=True)
    data = serializers.JSONField()  # type: ignore[assignment]  # the event's field, not .data
    created_at = serializers.DateTimeField()


class InboxContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    user_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    conversations = InboxConversationOutput(many=True, help_text="Those I see, newest first.")


class InboxAgentOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    availability = serializers.CharField()
    connected = serializers.BooleanField()
    open_count = serializers.IntegerField()
    capacity = serializers.IntegerField()
    skills = serializers.ListField(child=serializers.CharField())


class InboxSupervisorQueueOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    department = InboxNamedOutput()
    waiting = serializers.IntegerField()
    open = serializers.IntegerField()
    oldest_waiting_since = serializers.DateTimeField(allow_null=True)
    breached = serializers.IntegerField()


class InboxSupervisorAgentOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    availability = serializers.CharField()
    connected = serializers.BooleanField()
    available = serializers.BooleanField(help_text="Routing may give them one more now.")
    open_count = serializers.IntegerField()
    capacity = serializers.IntegerField()


class InboxSupervisorOutput(serializers.Serializer):
    queues = InboxSupervisorQueueOutput(many=True)
    agents = InboxSupervisorAgentOutput(many=True)


class InboxDepartmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    is_active = serializers.BooleanField()


class InboxQueueMemberOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    is_supervisor = serializers.BooleanField()


class InboxQueueOutput(serializers.Serializer):
    id = serializers.IntegerField()
    department_id = serializers.IntegerField()
    name = serializers.CharField()
    priority = serializers.IntegerField()
    routing_strategy = serializers.CharField()
    time_zone = serializers.CharField()
    weekly_hours = serializers.JSONField()
    holidays = serializers.ListField(child=serializers.CharField())
    first_response_minutes = serializers.IntegerField(allow_null=True)
    resolution_minutes = serializers.IntegerField(allow_null=True)
    sla_warning_minutes = serializers.IntegerField()
    requeue_after_seconds = serializers.IntegerField()
    members = InboxQueueMemberOutput(many=True)


class InboxCannedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shortcut = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()


class InboxWidgetSettingsOutput(serializers.Serializer):
    public_key = serializers.CharField()
    allowed_origins = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    title = serializers.CharField(allow_blank=True)
    greeting = serializers.CharField(allow_blank=True)
    color = serializers.CharField()
    offline_email = serializers.CharField(allow_blank=True)
    embed_snippet = serializers.CharField(help_text="The <script> tag to paste into a page.")


# --- Inputs ----------------------------------------------------------------------------------


class InboxConversationListQuery(InputSerializer):
    view = serializers.ChoiceField(choices=("mine", "unassigned", "all"), default="all")
    queue = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    q = serializers.CharField(max_length=100, required=False, allow_blank=True)
    # Read by the paginator; listed so the strict input accepts them.
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


class InboxMessagesQuery(InputSerializer):
    after = serializers.IntegerField(min_value=0, max_value=MAX_ID, required=False)


class InboxMessageSendInput(InputSerializer):
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    note = serializers.BooleanField(required=False, default=False)
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_ATTACHMENTS,
        required=False,
        default=list,
    )


class InboxAttachmentUploadInput(InputSerializer):
    file = serializers.FileField(allow_empty_file=True)
    duration_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class InboxAssignInput(InputSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class InboxTransferInput(InputSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    queue_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", trim_whitespace=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        targets = [name for name in ("user_id", "queue_id", "department_id") if name in attrs]
        if len(targets) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Choose one agent, queue or department.")]}
            )
        return attrs


class InboxStatusInput(InputSerializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True)


class InboxConversationUpdateInput(InputSerializer):
    priority = serializers.ChoiceField(choices=ConversationPriority.choices, required=False)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=MAX_LABELS, required=False
    )


class InboxMergeInput(InputSerializer):
    source_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class InboxAvailabilityInput(InputSerializer):
    availability = serializers.ChoiceField(choices=AgentAvailability.choices)


class InboxAgentUpdateInput(InputSerializer):
    capacity = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=MAX_SKILLS, required=False
    )


class InboxDepartmentInput(InputSerializer):
    name = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class InboxDepartmentUpdateInput(InboxDepartmentInput):
    name = serializers.CharField(max_length=80, required=False)


class InboxQueueInput(InputSerializer):
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    name = serializers.CharField(max_length=80)
    priority = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    routing_strategy = serializers.ChoiceField(choices=RoutingStrategy.choices, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    weekly_hours = serializers.JSONField(required=False)
    holidays = serializers.JSONField(required=False)
    first_response_minutes = serializers.IntegerField(
        min_value=1, max_value=525600, required=False, allow_null=True
    )
    resolution_minutes = serializers.IntegerField(
        min_value=1, max_value=525600, required=False, allow_null=True
    )
    sla_warning_minutes = serializers.IntegerField(min_value=0, max_value=10080, required=False)
    requeue_after_seconds = serializers.IntegerField(min_value=0, max_value=86400, required=False)


class InboxQueueUpdateInput(InboxQueueInput):
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    name = serializers.CharField(max_length=80, required=False)


class InboxQueueMemberInput(InputSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    is_supervisor = serializers.BooleanField(required=False, default=False)


class InboxCannedInput(InputSerializer):
    shortcut = serializers.SlugField(max_length=40)
    title = serializers.CharField(max_length=100)
    body = serializers.CharField(max_length=4000)


class InboxCannedUpdateInput(InboxCannedInput):
    shortcut = serializers.SlugField(max_length=40, required=False)
    title = serializers.CharField(max_length=100, required=False)
    body = serializers.CharField(max_length=4000, required=False)


class InboxCannedQuery(InputSerializer):
    q = serializers.CharField(max_length=100, required=False, allow_blank=True)


class InboxWidgetSettingsInput(InputSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=MAX_ORIGINS, required=False
    )
    enabled = serializers.BooleanField(required=False)
    title = serializers.CharField(max_length=80, required=False, allow_blank=True)
    greeting = serializers.CharField(max_length=300, required=False, allow_blank=True)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    offline_email = serializers.EmailField(required=False, allow_blank=True)
