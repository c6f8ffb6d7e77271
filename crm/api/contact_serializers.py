"""Input and output shapes of the contacts, companies, leads and inbox-panel API.

Outputs document the dicts built by ``crm.contact_selectors`` (ContactData, CompanyData,
LeadData), ``crm.board.deal_card`` and ``crm.timeline_selectors.activity_data``: the views
answer those dicts as they are.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import InputSerializer

MAX_IDS = 50


# --- Outputs ---------------------------------------------------------------------------------


class PeopleUserRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PeopleNamedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PeopleLabelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class PeopleBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(help_text="E.164.")


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(help_text="E.164, or empty.")
    job_title = serializers.CharField()
    company = PeopleNamedOutput(allow_null=True)
    owner = PeopleUserRefOutput(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    notes = serializers.CharField()
    labels = PeopleLabelOutput(many=True)
    user_id = serializers.IntegerField(allow_null=True, help_text="A linked platform account.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PeopleDealCardOutput(serializers.Serializer):
    """DealCard, the card on a pipeline's board."""

    id = serializers.IntegerField()
    pipeline_id = serializers.IntegerField()
    stage_id = serializers.IntegerField()
    position = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    value = serializers.IntegerField(help_text="Centavos.")
    currency = serializers.CharField()
    probability = serializers.IntegerField()
    weighted_value = serializers.IntegerField()
    status = serializers.CharField()
    owner = PeopleUserRefOutput(allow_null=True)
    contact = PeopleNamedOutput(allow_null=True)
    company = PeopleNamedOutput(allow_null=True)
    expected_close_date = serializers.DateField(allow_null=True)
    labels = PeopleLabelOutput(many=True)
    rotting = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class PeopleConversationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    last_message_at = serializers.DateTimeField(allow_null=True)


class PeopleCallOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField()


class ContactDetailOutput(ContactOutput):
    deals = PeopleDealCardOutput(many=True, help_text="In pipelines the caller sees.")
    conversations = PeopleConversationOutput(many=True, help_text="Those the caller sees.")
    calls = PeopleCallOutput(many=True)
    duplicates = PeopleBriefOutput(many=True, help_text="Same email or phone.")


class ContactPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ContactOutput(many=True)


class CompanyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()
    phone = serializers.CharField()
    tax_id = serializers.CharField()
    address = serializers.CharField()
    owner = PeopleUserRefOutput(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    notes = serializers.CharField()
    labels = PeopleLabelOutput(many=True)
    contact_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CompanyDetailOutput(CompanyOutput):
    contacts = PeopleBriefOutput(many=True)
    deals = PeopleDealCardOutput(many=True, help_text="In pipelines the caller sees.")


class CompanyPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CompanyOutput(many=True)


class LeadOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    company_name = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField(
        help_text="new, contacted, qualified, disqualified or converted."
    )
    owner = PeopleUserRefOutput(allow_null=True)
    notes = serializers.CharField()
    labels = PeopleLabelOutput(many=True)
    converted_contact_id = serializers.IntegerField(allow_null=True)
    converted_deal_id = serializers.IntegerField(allow_null=True)
    converted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class LeadDetailOutput(LeadOutput):
    duplicates = PeopleBriefOutput(many=True, help_text="Leads with the same email or phone.")
    contact_duplicates = PeopleBriefOutput(
        many=True, help_text="Contacts with the same email or phone."
    )


class LeadPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = LeadOutput(many=True)


class LeadConvertOutput(serializers.Serializer):
    contact = ContactOutput()
    deal = PeopleDealCardOutput()


class PeopleActivityConversationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()


class PeopleActivityCallOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class PeopleActivityTaskOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)


class PeopleActivityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = PeopleUserRefOutput(allow_null=True)
    body = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]
    created_at = serializers.DateTimeField()
    deal_id = serializers.IntegerField(allow_null=True)
    contact_id = serializers.IntegerField(allow_null=True)
    lead_id = serializers.IntegerField(allow_null=True)
    conversation = PeopleActivityConversationOutput(allow_null=True)
    call = PeopleActivityCallOutput(allow_null=True)
    task = PeopleActivityTaskOutput(allow_null=True)


class PeopleTimelinePageOutput(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PeopleActivityOutput(many=True)


class ConversationPanelOutput(serializers.Serializer):
    contact = ContactOutput()
    deals = PeopleDealCardOutput(many=True)
    conversations = PeopleConversationOutput(many=True)


# --- Inputs ----------------------------------------------------------------------------------


def _ids(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=MAX_IDS, **kwargs
    )


class ContactCreateInput(InputSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_id = serializers.IntegerField(required=False, allow_null=True)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    source = serializers.CharField(max_length=60, required=False, allow_blank=True)  # type: ignore[assignment]
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    label_ids = _ids(required=False)


class CompanyCreateInput(InputSerializer):
    name = serializers.CharField(max_length=150)
    domain = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    source = serializers.CharField(max_length=60, required=False, allow_blank=True)  # type: ignore[assignment]
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    label_ids = _ids(required=False)


class LeadCreateInput(InputSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    source = serializers.CharField(max_length=60, required=False, allow_blank=True)  # type: ignore[assignment]
    status = serializers.CharField(
        max_length=15, required=False, help_text="new, contacted, qualified or disqualified."
    )
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    label_ids = _ids(required=False)


class DuplicatesQuery(InputSerializer):
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    exclude = serializers.IntegerField(required=False, min_value=1)


class MergeInput(InputSerializer):
    source_ids = _ids(min_length=1)


class NoteInput(InputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=20000)


class LeadConvertInput(InputSerializer):
    pipeline_id = serializers.IntegerField()
    stage_id = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    value = serializers.JSONField(
        required=False, help_text="Centavos, an integer >= 0 (else `crm.invalid_value`)."
    )
    contact_id = serializers.IntegerField(required=False, allow_null=True)


class ConversationDealInput(InputSerializer):
    pipeline_id = serializers.IntegerField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    value = serializers.JSONField(
        required=False, help_text="Centavos, an integer >= 0 (else `crm.invalid_value`)."
    )


class ConversationContactInput(InputSerializer):
    contact_id = serializers.IntegerField()
