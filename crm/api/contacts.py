"""CRM API: contacts, companies, leads (duplicates, merges, conversion, notes, timelines)
and the CRM panel beside an inbox conversation.

Every route is under ``/api/v1/crm/<organization_id>/``. Outsiders, records of another
organization, merged records and conversations the caller does not see in the inbox answer
the same 404 ``crm.not_found``; viewers get 403 on writes, agents 403 on merges. Each view
validates its input and calls one service or selector.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from core.pagination import FeedCursorPagination, PagePagination
from crm import contact_selectors, contacts, support_link
from crm.api import contact_serializers as serializers
from crm.api.permissions import (
    IsCrmManager,
    IsCrmMember,
    IsCrmMemberReadingOrWriter,
    IsCrmWriter,
)
from crm.models import Contact, Lead

NOT_FOUND_DOC = (
    "Outsiders, another organization's or merged records: 404 `crm.not_found`; viewers: 403 "
    "`crm.permission_denied` on changes."
)
LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Name, email or phone contains."),
    OpenApiParameter("owner", OpenApiTypes.STR, description="A user id, or `me`."),
    OpenApiParameter("label", OpenApiTypes.INT, many=True, description="Any of these labels."),
    OpenApiParameter("source", OpenApiTypes.STR),
    OpenApiParameter("created_from", OpenApiTypes.DATE),
    OpenApiParameter("created_to", OpenApiTypes.DATE),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (default 50)."),
]
TIMELINE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`/`previous`."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (default 50)."),
]


def _valid(serializer_class: type[Any], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _page(request: Request, view: APIView, queryset: Any, build: Any) -> Response:
    paginator = PagePagination()
    page: list[Any] = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response([build(item) for item in page])


def _timeline(request: Request, view: APIView, **subject: Any) -> Response:
    from crm.timeline_selectors import activity_data, timeline

    paginator = FeedCursorPagination()
    page: list[Any] = paginator.paginate_queryset(timeline(**subject), request, view=view) or []
    return paginator.get_paginated_response([activity_data(item) for item in page])


# --- Contacts --------------------------------------------------------------------------------


class ContactListApi(APIView):
    """The organization's contacts; create one."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=serializers.ContactPageOutput,
        operation_id="crm_contacts_list",
        summary="Contacts",
        description="By name; merged contacts never show. Bad filters: 422 `crm.invalid_filter`.",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        contacts_found = contact_selectors.contacts_list(
            user=signed_in_user(request),
            organization_id=organization_id,
            query=request.query_params,
        )
        return _page(request, self, contacts_found, contact_selectors.contact_data)

    @extend_schema(
        request=serializers.ContactCreateInput,
        responses={201: serializers.ContactDetailOutput},
        summary="Create a contact",
        description=(
            "Phones are stored in E.164 (`crm.invalid_phone`, 422), emails checked "
            "(`crm.invalid_email`), company, owner and labels of the organization "
            "(`crm.invalid_reference`, extra.field). " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        data = _valid(serializers.ContactCreateInput, request.data)
        contact = contacts.contact_create(actor=user, organization_id=organization_id, **data)
        found = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact.pk
        )
        return Response(
            contact_selectors.contact_detail(user, found), status=status.HTTP_201_CREATED
        )


class ContactDuplicatesApi(APIView):
    """Contacts with this email (any case) or phone: to warn before creating a twin."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("phone", OpenApiTypes.STR),
            OpenApiParameter("exclude", OpenApiTypes.INT, description="A contact to leave out."),
        ],
        responses=serializers.PeopleBriefOutput(many=True),
        summary="Possible duplicate contacts",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = _valid(serializers.DuplicatesQuery, request.query_params)
        found = contacts.duplicates_of(
            organization_id=organization_id,
            email=query.get("email", ""),
            phone=query.get("phone", ""),
            exclude_id=query.get("exclude"),
        )
        return Response([contact_selectors.brief(item) for item in found])


class ContactDetailApi(APIView):
    """A contact with its deals, conversations, calls and duplicates; edit or delete it."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        responses=serializers.ContactDetailOutput,
        summary="A contact",
        description=NOT_FOUND_DOC,
    )
    def get(self, request: Request, organization_id: int, contact_id: int) -> Response:
        contact = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        return Response(contact_selectors.contact_detail(signed_in_user(request), contact))

    @extend_schema(
        request=serializers.ContactCreateInput,
        responses=serializers.ContactDetailOutput,
        summary="Edit a contact",
        description="Only the fields sent change. Errors as on create. " + NOT_FOUND_DOC,
    )
    def patch(self, request: Request, organization_id: int, contact_id: int) -> Response:
        user = signed_in_user(request)
        contact = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        data = _valid(serializers.ContactCreateInput, request.data, partial=True)
        contacts.contact_update(actor=user, contact=contact, **data)
        found = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact.pk
        )
        return Response(contact_selectors.contact_detail(user, found))

    @extend_schema(
        responses={204: None},
        summary="Delete a contact",
        description="Org admins or the contact's owner (others 403). " + NOT_FOUND_DOC,
    )
    def delete(self, request: Request, organization_id: int, contact_id: int) -> Response:
        contact = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        contacts.contact_delete(actor=signed_in_user(request), contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactTimelineApi(APIView):
    """A contact's timeline, newest first."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=TIMELINE_PARAMETERS,
        responses=serializers.PeopleTimelinePageOutput,
        summary="A contact's timeline",
        description=NOT_FOUND_DOC,
    )
    def get(self, request: Request, organization_id: int, contact_id: int) -> Response:
        contact = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        return _timeline(request, self, contact=contact)


class ContactNoteApi(APIView):
    """Write a note on a contact's timeline."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.NoteInput,
        responses={201: serializers.PeopleActivityOutput},
        summary="Add a note to a contact",
        description="Empty or too long: 422 `crm.invalid_note`. " + NOT_FOUND_DOC,
    )
    def post(self, request: Request, organization_id: int, contact_id: int) -> Response:
        from crm.notes import note_add
        from crm.timeline_selectors import activity_data

        contact = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        data = _valid(serializers.NoteInput, request.data)
        note = note_add(actor=signed_in_user(request), contact=contact, body=data["body"])
        return Response(activity_data(note), status=status.HTTP_201_CREATED)


class ContactMergeApi(APIView):
    """Merge other contacts into this one (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.MergeInput,
        responses=serializers.ContactDetailOutput,
        summary="Merge contacts",
        description=(
            "Deals, tasks, timeline, inbox links, BotConversa subscribers and labels move to "
            "this contact; its empty fields are filled from the others, which leave every "
            "list. This contact among the sources: 422 `crm.invalid_merge`. " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, contact_id: int) -> Response:
        user = signed_in_user(request)
        target = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact_id
        )
        data = _valid(serializers.MergeInput, request.data)
        sources = contact_selectors.merge_sources(Contact, organization_id, data["source_ids"])
        contacts.contact_merge(actor=user, target=target, sources=sources)
        found = contact_selectors.contact_get(organization_id=organization_id, contact_id=target.pk)
        return Response(contact_selectors.contact_detail(user, found))


# --- Companies -------------------------------------------------------------------------------


class CompanyListApi(APIView):
    """The organization's companies; create one."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=serializers.CompanyPageOutput,
        operation_id="crm_companies_list",
        summary="Companies",
        description="By name. Bad filters: 422 `crm.invalid_filter`.",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        found = contact_selectors.companies_list(
            user=signed_in_user(request),
            organization_id=organization_id,
            query=request.query_params,
        )
        return _page(request, self, found, contact_selectors.company_data)

    @extend_schema(
        request=serializers.CompanyCreateInput,
        responses={201: serializers.CompanyDetailOutput},
        summary="Create a company",
        description="Errors as for contacts. " + NOT_FOUND_DOC,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        data = _valid(serializers.CompanyCreateInput, request.data)
        company = contacts.company_create(actor=user, organization_id=organization_id, **data)
        found = contact_selectors.company_get(
            organization_id=organization_id, company_id=company.pk
        )
        return Response(
            contact_selectors.company_detail(user, found), status=status.HTTP_201_CREATED
        )


class CompanyDetailApi(APIView):
    """A company with its contacts and deals; edit or delete it."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        responses=serializers.CompanyDetailOutput, summary="A company", description=NOT_FOUND_DOC
    )
    def get(self, request: Request, organization_id: int, company_id: int) -> Response:
        company = contact_selectors.company_get(
            organization_id=organization_id, company_id=company_id
        )
        return Response(contact_selectors.company_detail(signed_in_user(request), company))

    @extend_schema(
        request=serializers.CompanyCreateInput,
        responses=serializers.CompanyDetailOutput,
        summary="Edit a company",
        description="Only the fields sent change. " + NOT_FOUND_DOC,
    )
    def patch(self, request: Request, organization_id: int, company_id: int) -> Response:
        user = signed_in_user(request)
        company = contact_selectors.company_get(
            organization_id=organization_id, company_id=company_id
        )
        data = _valid(serializers.CompanyCreateInput, request.data, partial=True)
        contacts.company_update(actor=user, company=company, **data)
        found = contact_selectors.company_get(
            organization_id=organization_id, company_id=company.pk
        )
        return Response(contact_selectors.company_detail(user, found))

    @extend_schema(
        responses={204: None},
        summary="Delete a company",
        description="Org admins or the company's owner (others 403). " + NOT_FOUND_DOC,
    )
    def delete(self, request: Request, organization_id: int, company_id: int) -> Response:
        company = contact_selectors.company_get(
            organization_id=organization_id, company_id=company_id
        )
        contacts.company_delete(actor=signed_in_user(request), company=company)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Leads -----------------------------------------------------------------------------------


class LeadListApi(APIView):
    """The organization's leads; create one."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=["new", "contacted", "qualified", "disqualified", "converted"],
            ),
        ],
        responses=serializers.LeadPageOutput,
        operation_id="crm_leads_list",
        summary="Leads",
        description="Newest first. Bad filters: 422 `crm.invalid_filter`.",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        found = contact_selectors.leads_list(
            user=signed_in_user(request),
            organization_id=organization_id,
            query=request.query_params,
        )
        return _page(request, self, found, contact_selectors.lead_data)

    @extend_schema(
        request=serializers.LeadCreateInput,
        responses={201: serializers.LeadDetailOutput},
        summary="Create a lead",
        description=(
            "Errors as for contacts, plus `crm.invalid_status` (422; `converted` comes only "
            "from converting). " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = _valid(serializers.LeadCreateInput, request.data)
        lead = contacts.lead_create(
            actor=signed_in_user(request), organization_id=organization_id, **data
        )
        found = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead.pk)
        return Response(contact_selectors.lead_detail(found), status=status.HTTP_201_CREATED)


class LeadDuplicatesApi(APIView):
    """Leads with this email (any case) or phone."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("phone", OpenApiTypes.STR),
            OpenApiParameter("exclude", OpenApiTypes.INT, description="A lead to leave out."),
        ],
        responses=serializers.PeopleBriefOutput(many=True),
        summary="Possible duplicate leads",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = _valid(serializers.DuplicatesQuery, request.query_params)
        found = contacts.lead_duplicates_of(
            organization_id=organization_id,
            email=query.get("email", ""),
            phone=query.get("phone", ""),
            exclude_id=query.get("exclude"),
        )
        return Response([contact_selectors.brief(item) for item in found])


class LeadDetailApi(APIView):
    """A lead with its possible duplicates; edit or delete it."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        responses=serializers.LeadDetailOutput, summary="A lead", description=NOT_FOUND_DOC
    )
    def get(self, request: Request, organization_id: int, lead_id: int) -> Response:
        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        return Response(contact_selectors.lead_detail(lead))

    @extend_schema(
        request=serializers.LeadCreateInput,
        responses=serializers.LeadDetailOutput,
        summary="Edit a lead",
        description=(
            "Only the fields sent change; a converted lead keeps its status (409 "
            "`crm.lead_converted`). " + NOT_FOUND_DOC
        ),
    )
    def patch(self, request: Request, organization_id: int, lead_id: int) -> Response:
        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        data = _valid(serializers.LeadCreateInput, request.data, partial=True)
        contacts.lead_update(actor=signed_in_user(request), lead=lead, **data)
        found = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead.pk)
        return Response(contact_selectors.lead_detail(found))

    @extend_schema(
        responses={204: None},
        summary="Delete a lead",
        description="Org admins or the lead's owner (others 403). " + NOT_FOUND_DOC,
    )
    def delete(self, request: Request, organization_id: int, lead_id: int) -> Response:
        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        contacts.lead_delete(actor=signed_in_user(request), lead=lead)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadTimelineApi(APIView):
    """A lead's timeline, newest first."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=TIMELINE_PARAMETERS,
        responses=serializers.PeopleTimelinePageOutput,
        summary="A lead's timeline",
        description=NOT_FOUND_DOC,
    )
    def get(self, request: Request, organization_id: int, lead_id: int) -> Response:
        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        return _timeline(request, self, lead=lead)


class LeadNoteApi(APIView):
    """Write a note on a lead's timeline."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.NoteInput,
        responses={201: serializers.PeopleActivityOutput},
        summary="Add a note to a lead",
        description="Empty or too long: 422 `crm.invalid_note`. " + NOT_FOUND_DOC,
    )
    def post(self, request: Request, organization_id: int, lead_id: int) -> Response:
        from crm.notes import note_add
        from crm.timeline_selectors import activity_data

        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        data = _valid(serializers.NoteInput, request.data)
        note = note_add(actor=signed_in_user(request), lead=lead, body=data["body"])
        return Response(activity_data(note), status=status.HTTP_201_CREATED)


class LeadConvertApi(APIView):
    """Convert a lead into a contact (found by email or phone, or new) and a deal."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.LeadConvertInput,
        responses=serializers.LeadConvertOutput,
        summary="Convert a lead",
        description=(
            "A pipeline the caller does not see: 404 `crm.not_found`; converted already: 409 "
            "`crm.lead_converted`; a stage of another pipeline: 422 `crm.invalid_stage`; a "
            "value that is not an integer: 422 `crm.invalid_value`. " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, lead_id: int) -> Response:
        from crm.board import card_by_id

        user = signed_in_user(request)
        lead = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        data = _valid(serializers.LeadConvertInput, request.data)
        contact, deal = contacts.lead_convert(
            actor=user,
            lead=lead,
            pipeline_id=data["pipeline_id"],
            stage_id=data.get("stage_id"),
            deal_title=data.get("title"),
            value=data.get("value", 0),
            contact_id=data.get("contact_id"),
        )
        found = contact_selectors.contact_get(
            organization_id=organization_id, contact_id=contact.pk
        )
        return Response(
            {"contact": contact_selectors.contact_data(found), "deal": card_by_id(deal.pk)}
        )


class LeadMergeApi(APIView):
    """Merge other leads into this one (org admins)."""

    permission_classes = (IsCrmManager,)

    @extend_schema(
        request=serializers.MergeInput,
        responses=serializers.LeadDetailOutput,
        summary="Merge leads",
        description=(
            "Tasks, timeline and labels move to this lead; its empty fields are filled from "
            "the others, which leave every list. A converted source: 409 "
            "`crm.lead_converted`. " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, lead_id: int) -> Response:
        target = contact_selectors.lead_get(organization_id=organization_id, lead_id=lead_id)
        data = _valid(serializers.MergeInput, request.data)
        sources = contact_selectors.merge_sources(Lead, organization_id, data["source_ids"])
        contacts.lead_merge(actor=signed_in_user(request), target=target, sources=sources)
        found = contact_selectors.lead_get(organization_id=organization_id, lead_id=target.pk)
        return Response(contact_selectors.lead_detail(found))


# --- The inbox panel -------------------------------------------------------------------------

CONVERSATION_DOC = (
    "For staff who see the conversation in the inbox; anything else (another organization's "
    "conversation included): 404 `crm.not_found`."
)


def _conversation(request: Request, organization_id: int, conversation_id: int) -> Any:
    return support_link.conversation_get(
        user=signed_in_user(request),
        organization_id=organization_id,
        conversation_id=conversation_id,
    )


class ConversationPanelApi(APIView):
    """The CRM beside a conversation: its contact, their deals and other conversations."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        responses=serializers.ConversationPanelOutput,
        summary="A conversation's CRM panel",
        description="Links the conversation's contact first if it was not yet. " + CONVERSATION_DOC,
    )
    def get(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        user = signed_in_user(request)
        conversation = _conversation(request, organization_id, conversation_id)
        return Response(support_link.conversation_panel(user=user, conversation=conversation))


class ConversationDealApi(APIView):
    """Create a deal for the conversation's contact in one click."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.ConversationDealInput,
        responses={201: serializers.PeopleDealCardOutput},
        summary="Create a deal from a conversation",
        description=(
            'The title defaults to "<contact> — <subject or channel>"; the caller owns it. '
            "A pipeline the caller does not see: 404 `crm.not_found`. " + CONVERSATION_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        from crm.board import card_by_id

        conversation = _conversation(request, organization_id, conversation_id)
        data = _valid(serializers.ConversationDealInput, request.data)
        deal = support_link.deal_from_conversation(
            actor=signed_in_user(request),
            conversation=conversation,
            pipeline_id=data["pipeline_id"],
            title=data.get("title"),
            value=data.get("value", 0),
        )
        return Response(card_by_id(deal.pk), status=status.HTTP_201_CREATED)


class ConversationContactApi(APIView):
    """Link the conversation's contact to another CRM contact."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.ConversationContactInput,
        responses=serializers.ConversationPanelOutput,
        summary="Re-link a conversation to a CRM contact",
        description=(
            "Every conversation of the same inbox contact follows. A contact of another "
            "organization: 422 `crm.invalid_reference`. " + CONVERSATION_DOC
        ),
    )
    def put(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        user = signed_in_user(request)
        conversation = _conversation(request, organization_id, conversation_id)
        data = _valid(serializers.ConversationContactInput, request.data)
        support_link.contact_relink(
            actor=user, conversation=conversation, contact_id=data["contact_id"]
        )
        return Response(support_link.conversation_panel(user=user, conversation=conversation))


urlpatterns: list[URLPattern | URLResolver] = [
    path("contacts/", ContactListApi.as_view(), name="crm-contacts"),
    path("contacts/duplicates/", ContactDuplicatesApi.as_view(), name="crm-contact-duplicates"),
    path("contacts/<int:contact_id>/", ContactDetailApi.as_view(), name="crm-contact"),
    path(
        "contacts/<int:contact_id>/timeline/",
        ContactTimelineApi.as_view(),
        name="crm-contact-timeline",
    ),
    path("contacts/<int:contact_id>/notes/", ContactNoteApi.as_view(), name="crm-contact-notes"),
    path("contacts/<int:contact_id>/merge/", ContactMergeApi.as_view(), name="crm-contact-merge"),
    path("companies/", CompanyListApi.as_view(), name="crm-companies"),
    path("companies/<int:company_id>/", CompanyDetailApi.as_view(), name="crm-company"),
    path("leads/", LeadListApi.as_view(), name="crm-leads"),
    path("leads/duplicates/", LeadDuplicatesApi.as_view(), name="crm-lead-duplicates"),
    path("leads/<int:lead_id>/", LeadDetailApi.as_view(), name="crm-lead"),
    path("leads/<int:lead_id>/timeline/", LeadTimelineApi.as_view(), name="crm-lead-timeline"),
    path("leads/<int:lead_id>/notes/", LeadNoteApi.as_view(), name="crm-lead-notes"),
    path("leads/<int:lead_id>/convert/", LeadConvertApi.as_view(), name="crm-lead-convert"),
    path("leads/<int:lead_id>/merge/", LeadMergeApi.as_view(), name="crm-lead-merge"),
    path(
        "conversations/<int:conversation_id>/crm/",
        ConversationPanelApi.as_view(),
        name="crm-conversation-panel",
    ),
    path(
        "conversations/<int:conversation_id>/crm/deal/",
        ConversationDealApi.as_view(),
        name="crm-conversation-deal",
    ),
    path(
        "conversations/<int:conversation_id>/crm/contact/",
        ConversationContactApi.as_view(),
        name="crm-conversation-contact",
    ),
]
