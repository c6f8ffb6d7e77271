"""Input and output shapes of the BotConversa settings API and its inbound endpoint."""

from __future__ import annotations

from rest_framework import serializers

from crm.models import BotConversaRuleKind, DispatchStatus


class ConnectionOutput(serializers.Serializer):
    api_key_set = serializers.BooleanField()
    api_key_last4 = serializers.CharField(help_text="The key's last 4 characters, or empty.")
    api_url = serializers.URLField()
    enabled = serializers.BooleanField()
    queue_id = serializers.IntegerField(allow_null=True)
    inbound_url = serializers.CharField(help_text="The address BotConversa flows call.")
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_check_ok = serializers.BooleanField(allow_null=True)
    last_error = serializers.CharField()


class ConnectionInput(serializers.Serializer):
    api_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=True,
        write_only=True,
        help_text='Write-only; "" removes the key. Never returned.',
    )
    api_url = serializers.CharField(required=False, max_length=200)
    enabled = serializers.BooleanField(required=False)
    queue_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="null: the organization's first queue."
    )


class NamedItemOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    tags = NamedItemOutput(many=True)
    flows = NamedItemOutput(many=True)


class RuleStageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    pipeline_id = serializers.IntegerField()


class RuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=BotConversaRuleKind.choices)
    stage = RuleStageOutput()
    tag_name = serializers.CharField()
    flow_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class RuleInput(serializers.Serializer):
    kind = serializers.CharField(max_length=40)
    stage_id = serializers.IntegerField()
    tag_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    flow_id = serializers.CharField(required=False, allow_blank=True, max_length=100)


class DispatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    key = serializers.CharField()
    status = serializers.ChoiceField(choices=DispatchStatus.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    payload = serializers.JSONField()
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InboundOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    conversation_id = serializers.IntegerField(allow_null=True)
