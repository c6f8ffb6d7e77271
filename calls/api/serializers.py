"""Output shapes shared by the calls API (others may append theirs below)."""

from __future__ import annotations

from rest_framework import serializers


class CallPersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class CallOutput(serializers.Serializer):
    """A call as both participants see it (``calls.events.call_payload`` builds the same)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    end_reason = serializers.CharField(allow_blank=True)
    media_path = serializers.CharField()
    client = CallPersonOutput()
    professional = CallPersonOutput()
    price_per_minute = serializers.IntegerField()
    minimum_fee = serializers.IntegerField()
    billing_unit_seconds = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    ringing_at = serializers.DateTimeField(allow_null=True)
    ring_deadline = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    connect_deadline = serializers.DateTimeField(allow_null=True)
    connected_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    client_connected = serializers.BooleanField()
    professional_connected = serializers.BooleanField()
    disconnect_deadline = serializers.DateTimeField(allow_null=True)
    billed_units = serializers.IntegerField()
    billed_amount = serializers.IntegerField()
    connected_seconds = serializers.IntegerField()
    segment_started_at = serializers.DateTimeField(allow_null=True)
    next_charge_at = serializers.DateTimeField(allow_null=True)
    low_balance_warned_at = serializers.DateTimeField(allow_null=True)
    queue_entry_id = serializers.IntegerField(allow_null=True)
    rated = serializers.BooleanField()


class CurrentCallOutput(serializers.Serializer):
    call = CallOutput(allow_null=True)


class ProfessionalStatusOutput(serializers.Serializer):
    status = serializers.CharField()
    accepting_calls = serializers.BooleanField()
