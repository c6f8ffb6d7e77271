"""Shapes of the queue API (for the schema; payloads are built by ``queueing.selectors``)."""

from __future__ import annotations

from rest_framework import serializers


class PersonBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class QueueEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    professional = PersonBriefOutput()
    status = serializers.CharField()
    fee = serializers.IntegerField()
    position = serializers.IntegerField(
        allow_null=True, help_text="1-based place in line; null once the entry is closed."
    )
    estimated_wait_seconds = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "(position - 1 + 1 if the professional is in a call) x the professional's average "
            "call length (10 minutes until they finished a call); 0 while a turn is offered."
        ),
    )
    joined_at = serializers.DateTimeField()
    offered_at = serializers.DateTimeField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    call_id = serializers.IntegerField(allow_null=True)


class QueueAcceptOutput(serializers.Serializer):
    entry = QueueEntryOutput()
    call = serializers.JSONField(help_text="The call (CallPayload), already accepted.")


class QueueClientOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class ProfessionalQueueRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    client = QueueClientOutput()
    joined_at = serializers.DateTimeField()
    status = serializers.CharField()


class ProfessionalQueueOutput(serializers.Serializer):
    length = serializers.IntegerField()
    entries = ProfessionalQueueRowOutput(many=True)
