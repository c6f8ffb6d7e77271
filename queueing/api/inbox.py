"""Support inbox API for staff: conversations, messages and notes, routing commands, contacts,
agents, the supervisor snapshot and the inbox configuration.

Every route is under ``/api/v1/inbox/<organization_id>/``. Anonymous callers get 401; people
outside the organization, and conversations outside what the caller sees, get the same 404
``inbox.not_found``; a role that may not do something gets 403 ``inbox.permission_denied``.
Who sees and does what is written once, in ``queueing.inbox_access``; each command view
validates its input and calls one service, which checks again on the locked rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from chat import attachments as chat_attachments
from chat.api.attachments import FILE_RESPONSES, MULTIPART_OVERHEAD_BYTES, _file_response
from chat.models import Attachment, Message
from chat.support import support_attachment_data, support_message_data
from queueing import agents, inbox, inbox_access, inbox_config, inbox_selectors, routing
from queueing.api import inbox_serializers as serializers
from queueing.models import (
    AgentAvailability,
    CannedResponse,
    Conversation,
    Department,
    QueueMember,
    SupportAgent,
    SupportQueue,
    SupportWidget,
    default_capacity,
)

# --- Permissions -----------------------------------------------------------------------------


class IsInboxStaff(BasePermission):
    """Signed in and a member of ``view.kwargs['organization_id']`` (any role: viewers read).

    Outsiders get 404 ``inbox.not_found``, as if the organization did not exist.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        self.check(request.user, int(view.kwargs["organization_id"]))
        return True

    def check(self, user: Any, organization_id: int) -> None:
        inbox_access.require_staff(user, organization_id)


class IsInboxAgent(IsInboxStaff):
    """An org agent or admin: someone who answers (viewers get 403)."""

    def check(self, user: Any, organization_id: int) -> None:
        inbox_access.require_agent(user, organization_id)


class IsInboxAdmin(IsInboxStaff):
    """An org admin: the inbox configuration and the supervisor view (others get 403)."""

    def check(self, user: Any, organization_id: int) -> None:
        inbox_access.require_configure(user, organization_id)


class IsInboxStaffReadingOrAdmin(IsInboxStaff):
    """Reading (GET) for any staff member of the organization; changes for org admins."""

    reader: type[IsInboxStaff] = IsInboxStaff

    def has_permission(self, request: Request, view: Any) -> bool:
        chosen = self.reader() if request.method in SAFE_METHODS else IsInboxAdmin()
        return chosen.has_permission(request, view)


class IsInboxAgentReadingOrAdmin(IsInboxStaffReadingOrAdmin):
    """Reading for agents and admins (canned responses are for answering); changes for admins."""

    reader = IsInboxAgent


class ConversationCursorPagination(CursorPagination):
    """Most recent activity first; the id breaks ties (and orders never-answered ones)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-last_message_at", "-id")


MESSAGE_PAGE_SIZE = 100


# --- Lookups and payloads --------------------------------------------------------------------


def _conversation(request: Request, organization_id: int, conversation_id: int) -> Conversation:
    return inbox_access.conversation_get_visible(
        user=signed_in_user(request),
        organization_id=organization_id,
        conversation_id=conversation_id,
    )


def _conversation_payload(conversation: Conversation) -> dict[str, Any]:
    data = inbox_selectors.conversation_data_by_id(conversation.pk)
    if data is None:
        raise inbox_access.not_found()
    return dict(serializers.InboxConversationOutput(data).data)


def _message_payload(message: Message, conversation_id: int) -> dict[str, Any]:
    data = support_message_data(message, for_contact=False, conversation_id=conversation_id)
    return dict(serializers.InboxMessageOutput(data).data)


def _department_data(department: Department) -> dict[str, Any]:
    return {
        "id": department.pk,
        "name": department.name,
        "description": department.description,
        "is_active": department.is_active,
    }


def _queue_data(queue: SupportQueue, members: list[QueueMember]) -> dict[str, Any]:
    return {
        "id": queue.pk,
        "department_id": queue.department_id,
        "name": queue.name,
        "priority": queue.priority,
        "routing_strategy": queue.routing_strategy,
        "time_zone": queue.time_zone,
        "weekly_hours": queue.weekly_hours,
        "holidays": queue.holidays,
        "first_response_minutes": queue.first_response_minutes,
        "resolution_minutes": queue.resolution_minutes,
        "sla_warning_minutes": queue.sla_warning_minutes,
        "requeue_after_seconds": queue.requeue_after_seconds,
        "members": [
            {
                "user_id": member.user_id,
                "name": member.user.get_full_name(),
                "is_supervisor": member.is_supervisor,
            }
            for member in members
        ],
    }


def _queue_list(organization_id: int) -> list[dict[str, Any]]:
    """The organization's queues with their members: two queries."""
    return [
        _queue_data(queue, members)
        for queue, members in inbox_selectors.queues_with_members(organization_id=organization_id)
    ]


def _queue_payload(queue: SupportQueue) -> dict[str, Any]:
    members = inbox_selectors.queue_members(queue_id=queue.pk)
    return dict(serializers.InboxQueueOutput(_queue_data(queue, members)).data)


def _canned_data(canned: CannedResponse) -> dict[str, Any]:
    return dict(serializers.InboxCannedOutput(inbox_selectors.canned_data(canned)).data)


def _agent_data(user: Any, agent: SupportAgent | None) -> dict[str, Any]:
    # An agent who never opened the inbox has no row yet: they show with the defaults the row
    # would be created with.
    return {
        "user_id": user.pk,
        "name": user.get_full_name(),
        "availability": agent.availability if agent else AgentAvailability.OFFLINE,
        "connected": agent.connected if agent else False,
        "open_count": agent.open_count if agent else 0,
        "capacity": agent.capacity if agent else default_capacity(),
        "skills": list(agent.skills) if agent else [],
    }


def _agent_list(organization_id: int) -> list[dict[str, Any]]:
    """Every org agent and admin with their inbox state, by name: two queries."""
    return [
        _agent_data(user, agent)
        for user, agent in inbox_selectors.agents_with_state(organization_id=organization_id)
    ]


def _widget_payload(request: Request, widget: SupportWidget) -> dict[str, Any]:
    base = settings.WIDGET_PUBLIC_URL or request.build_absolute_uri("/")
    data = {
        "public_key": widget.public_key,
        "allowed_origins": list(widget.allowed_origins),
        "enabled": widget.enabled,
        "title": widget.title,
        "greeting": widget.greeting,
        "color": widget.color,
        "offline_email": widget.offline_email,
        "embed_snippet": inbox_config.widget_embed_snippet(widget, base_url=base),
    }
    return dict(serializers.InboxWidgetSettingsOutput(data).data)


def _attachment(*, user: Any, organization_id: int, attachment_id: int) -> Attachment:
    """A support attachment of a conversation ``user`` sees (an unsent upload: its uploader's).

    A deleted message's files are gone. 404 ``inbox.not_found`` otherwise.
    """
    attachment = inbox_selectors.attachment_visible(
        user=user, organization_id=organization_id, attachment_id=attachment_id
    )
    if attachment is None:
        raise inbox_access.not_found()
    return attachment


ORG_PARAMETER_DOC = (
    "Outsiders and conversations the caller does not see: 404 `inbox.not_found`; "
    "a role that may not do this: 403 `inbox.permission_denied`."
)


# --- Conversations ---------------------------------------------------------------------------


class ConversationListApi(APIView):
    """The conversations I see, filtered by view, queue, department, status or a search."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "view",
                OpenApiTypes.STR,
                enum=["mine", "unassigned", "all"],
                description="mine: assigned to me; unassigned: unresolved, nobody assigned.",
            ),
            OpenApiParameter("queue", OpenApiTypes.INT),
            OpenApiParameter("department", OpenApiTypes.INT),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=["open", "pending", "snoozed", "resolved"]
            ),
            OpenApiParameter("q", OpenApiTypes.STR, description="Contact name or email, subject."),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`/`previous`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 100 (default 25)."),
        ],
        responses=serializers.InboxConversationPageOutput,
        operation_id="inbox_conversations_list",
        summary="Inbox conversations",
        description="Most recent activity first, by cursor. " + ORG_PARAMETER_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = serializers.InboxConversationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        conversations = inbox_selectors.conversation_list(
            user=signed_in_user(request),
            organization_id=organization_id,
            view=filters["view"],
            queue_id=filters.get("queue"),
            department_id=filters.get("department"),
            status=filters.get("status"),
            q=(filters.get("q") or "").strip() or None,
        )
        paginator = ConversationCursorPagination()
        page = paginator.paginate_queryset(conversations, request, view=self) or []
        return paginator.get_paginated_response(
            serializers.InboxConversationOutput(
                [inbox_selectors.conversation_data(item) for item in page], many=True
            ).data
        )


class ConversationPullApi(APIView):
    """Take the next waiting conversation of my queues (any routing strategy)."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=None,
        responses={200: serializers.InboxConversationOutput},
        summary="Pull the next conversation",
        description=(
            "Conversation priority, queue priority, then the oldest. Refused with "
            "`inbox.agent_at_capacity` (409) and `inbox.nothing_waiting` (404)."
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        conversation = routing.pull_next(
            user=signed_in_user(request), organization_id=organization_id
        )
        return Response(_conversation_payload(conversation))


class ConversationDetailApi(APIView):
    """A conversation; change its priority or labels (its assignee or an org admin)."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        responses=serializers.InboxConversationOutput,
        summary="A conversation",
        description=ORG_PARAMETER_DOC,
    )
    def get(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        return Response(
            _conversation_payload(_conversation(request, organization_id, conversation_id))
        )

    @extend_schema(
        request=serializers.InboxConversationUpdateInput,
        responses=serializers.InboxConversationOutput,
        summary="Set a conversation's priority or labels",
        description="Labels are stored lower-case, 20 at most. " + ORG_PARAMETER_DOC,
    )
    def patch(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxConversationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = inbox.conversation_update(
            actor=signed_in_user(request),
            conversation=_conversation(request, organization_id, conversation_id),
            priority=data.validated_data.get("priority"),
            labels=data.validated_data.get("labels"),
        )
        return Response(_conversation_payload(conversation))


class ConversationMessagesApi(APIView):
    """The conversation's messages, internal notes included; reply to the contact or add a note.

    A retry with the same ``client_id`` answers 200 with the first message.
    """

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, description="Newer than this id (oldest first)."
            )
        ],
        responses=serializers.InboxMessagePageOutput,
        summary="A conversation's messages",
        description=f"Oldest first, {MESSAGE_PAGE_SIZE} at a time. " + ORG_PARAMETER_DOC,
    )
    def get(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        conversation = _conversation(request, organization_id, conversation_id)
        query = serializers.InboxMessagesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = list(
            inbox_selectors.conversation_messages(
                conversation=conversation,
                after_id=query.validated_data.get("after"),
                for_contact=False,
            )[: MESSAGE_PAGE_SIZE + 1]
        )
        page = messages[:MESSAGE_PAGE_SIZE]
        return Response(
            {
                "results": serializers.InboxMessageOutput(
                    [
                        support_message_data(
                            message, for_contact=False, conversation_id=conversation.pk
                        )
                        for message in page
                    ],
                    many=True,
                ).data,
                "has_more": len(messages) > MESSAGE_PAGE_SIZE,
            }
        )

    @extend_schema(
        request=serializers.InboxMessageSendInput,
        responses={
            201: serializers.InboxMessageOutput,
            200: OpenApiResponse(
                serializers.InboxMessageOutput, description="A retried client_id."
            ),
        },
        summary="Reply to the contact or add an internal note",
        description=(
            "Replies: the assignee or an org admin; notes (`note: true`, never shown to the "
            "contact, `<@id>` mentions notify agents): anyone who sees it except viewers. "
            + ORG_PARAMETER_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxMessageSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = _conversation(request, organization_id, conversation_id)
        client_id = data.validated_data.get("client_id")
        before = client_id is not None and _client_id_used(request, client_id)
        message = inbox.staff_message_send(
            actor=signed_in_user(request), conversation=conversation, **data.validated_data
        )
        return Response(
            _message_payload(message, conversation.pk),
            status=status.HTTP_200_OK if before else status.HTTP_201_CREATED,
        )


def _client_id_used(request: Request, client_id: str) -> bool:
    # The service answers a retry with the first message; the status tells the two apart.
    return inbox_selectors.staff_client_id_used(
        user_id=signed_in_user(request).pk, client_id=client_id
    )


class ConversationAttachmentUploadApi(APIView):
    """Upload a file to a conversation, to be sent with a reply or a note."""

    permission_classes = (IsInboxAgent,)
    parser_classes = (MultiPartParser,)

    @extend_schema(
        request={"multipart/form-data": serializers.InboxAttachmentUploadInput},
        responses={201: serializers.InboxAttachmentOutput},
        summary="Upload an attachment to a conversation",
        description=(
            "For those who may write a note in it. Size (`chat.attachment_too_large`, 413) "
            "and type (`chat.attachment_type_forbidden`, 422) as in chat. " + ORG_PARAMETER_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        user = signed_in_user(request)
        conversation = _conversation(request, organization_id, conversation_id)
        inbox_access.require_note(user, conversation)
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.CHAT_ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise chat_attachments.attachment_too_large()
        data = serializers.InboxAttachmentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        from chat.support import support_attachment_upload

        attachment = support_attachment_upload(
            room=conversation.room,
            uploaded_by_id=user.pk,
            file=data.validated_data["file"],
            duration_ms=data.validated_data.get("duration_ms"),
        )
        return Response(
            serializers.InboxAttachmentOutput(
                support_attachment_data(attachment, for_contact=False)
            ).data,
            status=status.HTTP_201_CREATED,
        )


class AttachmentFileApi(APIView):
    """A support attachment's file (or, with ``?thumbnail=1``, an image's thumbnail)."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        parameters=[OpenApiParameter("thumbnail", OpenApiTypes.BOOL)],
        responses=FILE_RESPONSES,
        summary="Download a conversation's attachment",
    )
    def get(self, request: Request, organization_id: int, attachment_id: int) -> FileResponse:
        attachment = _attachment(
            user=signed_in_user(request),
            organization_id=organization_id,
            attachment_id=attachment_id,
        )
        thumbnail = request.query_params.get("thumbnail") in ("1", "true")
        return _file_response(attachment, thumbnail=thumbnail)


class ConversationAssignApi(APIView):
    """Assign the conversation to an agent (an agent may take an unassigned one of their queue)."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=serializers.InboxAssignInput,
        responses=serializers.InboxConversationOutput,
        summary="Assign a conversation",
        description=(
            "A full agent is refused with `inbox.agent_at_capacity` (409); someone who is not "
            "an agent of the organization is `inbox.agent_not_found` (404). " + ORG_PARAMETER_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = inbox.conversation_assign(
            actor=signed_in_user(request),
            conversation=_conversation(request, organization_id, conversation_id),
            user_id=data.validated_data["user_id"],
        )
        return Response(_conversation_payload(conversation))


class ConversationTransferApi(APIView):
    """Transfer the conversation to an agent, a queue or a department, with a note."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=serializers.InboxTransferInput,
        responses=serializers.InboxConversationOutput,
        summary="Transfer a conversation",
        description=(
            "Exactly one of `user_id`, `queue_id`, `department_id`. A full agent is refused "
            "with `inbox.agent_at_capacity` (409) and nothing changes. " + ORG_PARAMETER_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = inbox.conversation_transfer(
            actor=signed_in_user(request),
            conversation=_conversation(request, organization_id, conversation_id),
            to_user_id=data.validated_data.get("user_id"),
            to_queue_id=data.validated_data.get("queue_id"),
            to_department_id=data.validated_data.get("department_id"),
            note=data.validated_data["note"],
        )
        return Response(_conversation_payload(conversation))


class ConversationStatusApi(APIView):
    """Set the status: open, pending, snoozed (until a time) or resolved."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=serializers.InboxStatusInput,
        responses=serializers.InboxConversationOutput,
        summary="Change a conversation's status",
        description="Resolving asks the contact for a rating. " + ORG_PARAMETER_DOC,
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = inbox.conversation_status_set(
            actor=signed_in_user(request),
            conversation=_conversation(request, organization_id, conversation_id),
            status=data.validated_data["status"],
            snoozed_until=data.validated_data.get("snoozed_until"),
        )
        return Response(_conversation_payload(conversation))


class ConversationReopenApi(APIView):
    """Reopen a resolved conversation (an org admin or its last assignee)."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=None,
        responses=serializers.InboxConversationOutput,
        summary="Reopen a conversation",
        description=ORG_PARAMETER_DOC,
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        conversation = inbox.conversation_reopen(
            actor=signed_in_user(request),
            conversation=_conversation(request, organization_id, conversation_id),
        )
        return Response(_conversation_payload(conversation))


class ConversationMergeApi(APIView):
    """Merge another conversation of the same contact into this one."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(
        request=serializers.InboxMergeInput,
        responses=serializers.InboxConversationOutput,
        summary="Merge a conversation into this one",
        description=(
            "The source's messages move here and it is resolved as merged. An org admin, or "
            "the assignee of both. Another contact's: `inbox.merge_different_contact` (409). "
            + ORG_PARAMETER_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        data = serializers.InboxMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = _conversation(request, organization_id, conversation_id)
        source = _conversation(request, organization_id, data.validated_data["source_id"])
        conversation = inbox.conversation_merge(
            actor=signed_in_user(request), source=source, target=target
        )
        return Response(_conversation_payload(conversation))


class ConversationEventsApi(APIView):
    """What happened to the conversation, oldest first (assignments, transfers, SLA...)."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        responses=serializers.InboxEventOutput(many=True),
        summary="A conversation's activity",
        description=ORG_PARAMETER_DOC,
    )
    def get(self, request: Request, organization_id: int, conversation_id: int) -> Response:
        events = inbox_selectors.conversation_events(
            conversation=_conversation(request, organization_id, conversation_id)
        )
        items = [
            {
                "id": event.pk,
                "kind": event.kind,
                "actor": {"id": event.actor.pk, "name": event.actor.get_full_name()}
                if event.actor is not None
                else None,
                "data": event.data,
                "created_at": event.created_at,
            }
            for event in events
        ]
        return Response(serializers.InboxEventOutput(items, many=True).data)


class ContactDetailApi(APIView):
    """A contact with the conversations of theirs I see, newest first."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(
        responses=serializers.InboxContactOutput,
        summary="A contact",
        description="Agents see a contact with at least one conversation they see. "
        + ORG_PARAMETER_DOC,
    )
    def get(self, request: Request, organization_id: int, contact_id: int) -> Response:
        user = signed_in_user(request)
        contact = inbox_selectors.contact_get_visible(
            user=user, organization_id=organization_id, contact_id=contact_id
        )
        return Response(
            serializers.InboxContactOutput(inbox_selectors.contact_detail(contact, user=user)).data
        )


# --- Agents and supervisors ------------------------------------------------------------------


class AgentMeApi(APIView):
    """My inbox state in this organization; set my availability (online, busy, offline)."""

    permission_classes = (IsInboxAgent,)

    @extend_schema(responses=serializers.InboxAgentOutput, summary="My agent state")
    def get(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        agent = agents.agent_get_or_create(organization_id=organization_id, user_id=user.pk)
        return Response(serializers.InboxAgentOutput(_agent_data(user, agent)).data)

    @extend_schema(
        request=serializers.InboxAvailabilityInput,
        responses=serializers.InboxAgentOutput,
        summary="Set my availability",
        description="Going online fills my free capacity from the waiting line.",
    )
    def patch(self, request: Request, organization_id: int) -> Response:
        data = serializers.InboxAvailabilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        agent = agents.agent_availability_set(
            user=user,
            organization_id=organization_id,
            availability=data.validated_data["availability"],
        )
        return Response(serializers.InboxAgentOutput(_agent_data(user, agent)).data)


class AgentListApi(APIView):
    """The organization's agents and admins with their availability and load."""

    permission_classes = (IsInboxStaff,)

    @extend_schema(responses=serializers.InboxAgentOutput(many=True), summary="Agents")
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(serializers.InboxAgentOutput(_agent_list(organization_id), many=True).data)


class AgentDetailApi(APIView):
    """Set an agent's capacity and skills (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=serializers.InboxAgentUpdateInput,
        responses=serializers.InboxAgentOutput,
        summary="Set an agent's capacity or skills",
        description="Not an agent of the organization: `inbox.agent_not_found` (404).",
    )
    def patch(self, request: Request, organization_id: int, user_id: int) -> Response:
        data = serializers.InboxAgentUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        agent = agents.agent_update(
            actor=signed_in_user(request),
            organization_id=organization_id,
            user_id=user_id,
            capacity=data.validated_data.get("capacity"),
            skills=data.validated_data.get("skills"),
        )
        agent_user = inbox_selectors.agent_user(organization_id=organization_id, user_id=user_id)
        return Response(serializers.InboxAgentOutput(_agent_data(agent_user, agent)).data)


class SupervisorApi(APIView):
    """Every queue's load and every agent's state (org admins); live on the supervisor topic."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(responses=serializers.InboxSupervisorOutput, summary="Supervisor snapshot")
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(
            serializers.InboxSupervisorOutput(
                inbox_selectors.supervisor_snapshot(organization_id)
            ).data
        )


# --- Configuration ---------------------------------------------------------------------------


class DepartmentListApi(APIView):
    """The organization's departments; create one (org admins)."""

    permission_classes = (IsInboxStaffReadingOrAdmin,)

    @extend_schema(responses=serializers.InboxDepartmentOutput(many=True), summary="Departments")
    def get(self, request: Request, organization_id: int) -> Response:
        departments = inbox_selectors.department_list(organization_id=organization_id)
        return Response(
            serializers.InboxDepartmentOutput(
                [_department_data(item) for item in departments], many=True
            ).data
        )

    @extend_schema(
        request=serializers.InboxDepartmentInput,
        responses={201: serializers.InboxDepartmentOutput},
        summary="Create a department",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.InboxDepartmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        department = inbox_config.department_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(
            serializers.InboxDepartmentOutput(_department_data(department)).data,
            status=status.HTTP_201_CREATED,
        )


class DepartmentDetailApi(APIView):
    """Change or delete a department (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=serializers.InboxDepartmentUpdateInput,
        responses=serializers.InboxDepartmentOutput,
        summary="Change a department",
    )
    def patch(self, request: Request, organization_id: int, department_id: int) -> Response:
        data = serializers.InboxDepartmentUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        department = inbox_config.department_update(
            actor=signed_in_user(request),
            department=inbox_config.department_get(
                organization_id=organization_id, department_id=department_id
            ),
            **data.validated_data,
        )
        return Response(serializers.InboxDepartmentOutput(_department_data(department)).data)

    @extend_schema(responses={204: None}, summary="Delete a department")
    def delete(self, request: Request, organization_id: int, department_id: int) -> Response:
        inbox_config.department_delete(
            actor=signed_in_user(request),
            department=inbox_config.department_get(
                organization_id=organization_id, department_id=department_id
            ),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueListApi(APIView):
    """The organization's queues with their members; create one (org admins)."""

    permission_classes = (IsInboxStaffReadingOrAdmin,)

    @extend_schema(responses=serializers.InboxQueueOutput(many=True), summary="Queues")
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(serializers.InboxQueueOutput(_queue_list(organization_id), many=True).data)

    @extend_schema(
        request=serializers.InboxQueueInput,
        responses={201: serializers.InboxQueueOutput},
        summary="Create a queue",
        description="Hours are checked: `inbox.invalid_hours` (400, `extra`).",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.InboxQueueInput(data=request.data)
        data.is_valid(raise_exception=True)
        queue = inbox_config.queue_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_queue_payload(queue), status=status.HTTP_201_CREATED)


class QueueDetailApi(APIView):
    """Change or delete a queue (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=serializers.InboxQueueUpdateInput,
        responses=serializers.InboxQueueOutput,
        summary="Change a queue",
    )
    def patch(self, request: Request, organization_id: int, queue_id: int) -> Response:
        data = serializers.InboxQueueUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        queue = inbox_config.queue_update(
            actor=signed_in_user(request),
            queue=inbox_config.queue_get(organization_id=organization_id, queue_id=queue_id),
            **data.validated_data,
        )
        return Response(_queue_payload(queue))

    @extend_schema(responses={204: None}, summary="Delete a queue")
    def delete(self, request: Request, organization_id: int, queue_id: int) -> Response:
        inbox_config.queue_delete(
            actor=signed_in_user(request),
            queue=inbox_config.queue_get(organization_id=organization_id, queue_id=queue_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueMembersApi(APIView):
    """Add an agent to a queue, or change their supervisor flag (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=serializers.InboxQueueMemberInput,
        responses=serializers.InboxQueueOutput,
        summary="Add a queue member",
    )
    def post(self, request: Request, organization_id: int, queue_id: int) -> Response:
        data = serializers.InboxQueueMemberInput(data=request.data)
        data.is_valid(raise_exception=True)
        queue = inbox_config.queue_get(organization_id=organization_id, queue_id=queue_id)
        inbox_config.queue_member_add(
            actor=signed_in_user(request), queue=queue, **data.validated_data
        )
        return Response(_queue_payload(queue))


class QueueMemberApi(APIView):
    """Take an agent out of a queue (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(responses=serializers.InboxQueueOutput, summary="Remove a queue member")
    def delete(
        self, request: Request, organization_id: int, queue_id: int, user_id: int
    ) -> Response:
        queue = inbox_config.queue_get(organization_id=organization_id, queue_id=queue_id)
        inbox_config.queue_member_remove(
            actor=signed_in_user(request), queue=queue, user_id=user_id
        )
        return Response(_queue_payload(queue))


class CannedListApi(APIView):
    """Canned responses (agents read them); create one (org admins)."""

    permission_classes = (IsInboxAgentReadingOrAdmin,)

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Shortcut, title, text.")],
        responses=serializers.InboxCannedOutput(many=True),
        summary="Canned responses",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = serializers.InboxCannedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        responses = inbox_selectors.canned_list(
            organization_id, (query.validated_data.get("q") or "").strip() or None
        )
        return Response(
            serializers.InboxCannedOutput(
                [inbox_selectors.canned_data(item) for item in responses], many=True
            ).data
        )

    @extend_schema(
        request=serializers.InboxCannedInput,
        responses={201: serializers.InboxCannedOutput},
        summary="Create a canned response",
        description="A shortcut already used: `inbox.shortcut_taken` (409).",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.InboxCannedInput(data=request.data)
        data.is_valid(raise_exception=True)
        canned = inbox_config.canned_create(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_canned_data(canned), status=status.HTTP_201_CREATED)


class CannedDetailApi(APIView):
    """Change or delete a canned response (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=serializers.InboxCannedUpdateInput,
        responses=serializers.InboxCannedOutput,
        summary="Change a canned response",
    )
    def patch(self, request: Request, organization_id: int, canned_id: int) -> Response:
        data = serializers.InboxCannedUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        canned = inbox_config.canned_update(
            actor=signed_in_user(request),
            canned=inbox_config.canned_get(organization_id=organization_id, canned_id=canned_id),
            **data.validated_data,
        )
        return Response(_canned_data(canned))

    @extend_schema(responses={204: None}, summary="Delete a canned response")
    def delete(self, request: Request, organization_id: int, canned_id: int) -> Response:
        inbox_config.canned_delete(
            actor=signed_in_user(request),
            canned=inbox_config.canned_get(organization_id=organization_id, canned_id=canned_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WidgetSettingsApi(APIView):
    """The website widget's settings and embed snippet; change them (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(responses=serializers.InboxWidgetSettingsOutput, summary="Widget settings")
    def get(self, request: Request, organization_id: int) -> Response:
        widget = inbox_config.widget_get_or_create(organization_id=organization_id)
        return Response(_widget_payload(request, widget))

    @extend_schema(
        request=serializers.InboxWidgetSettingsInput,
        responses=serializers.InboxWidgetSettingsOutput,
        summary="Change the widget's settings",
        description=(
            "Origins are `scheme://host[:port]`, no path: else `inbox.invalid_origins` (422)."
        ),
    )
    def patch(self, request: Request, organization_id: int) -> Response:
        data = serializers.InboxWidgetSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        widget = inbox_config.widget_update(
            actor=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_widget_payload(request, widget))


class WidgetRotateKeyApi(APIView):
    """Give the widget a new public key: pages with the old one stop working (org admins)."""

    permission_classes = (IsInboxAdmin,)

    @extend_schema(
        request=None,
        responses=serializers.InboxWidgetSettingsOutput,
        summary="Rotate the widget key",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        widget = inbox_config.widget_rotate_key(
            actor=signed_in_user(request), organization_id=organization_id
        )
        return Response(_widget_payload(request, widget))


ORG = "<int:organization_id>"
CONVERSATION = f"{ORG}/conversations/<int:conversation_id>"

urlpatterns: list[URLPattern] = [
    path(f"{ORG}/conversations/", ConversationListApi.as_view(), name="inbox-conversations"),
    path(f"{ORG}/conversations/pull/", ConversationPullApi.as_view(), name="inbox-pull"),
    path(f"{CONVERSATION}/", ConversationDetailApi.as_view(), name="inbox-conversation"),
    path(f"{CONVERSATION}/messages/", ConversationMessagesApi.as_view(), name="inbox-messages"),
    path(
        f"{CONVERSATION}/attachments/",
        ConversationAttachmentUploadApi.as_view(),
        name="inbox-attachments",
    ),
    path(f"{CONVERSATION}/assign/", ConversationAssignApi.as_view(), name="inbox-assign"),
    path(f"{CONVERSATION}/transfer/", ConversationTransferApi.as_view(), name="inbox-transfer"),
    path(f"{CONVERSATION}/status/", ConversationStatusApi.as_view(), name="inbox-status"),
    path(f"{CONVERSATION}/reopen/", ConversationReopenApi.as_view(), name="inbox-reopen"),
    path(f"{CONVERSATION}/merge/", ConversationMergeApi.as_view(), name="inbox-merge"),
    path(f"{CONVERSATION}/events/", ConversationEventsApi.as_view(), name="inbox-events"),
    path(
        f"{ORG}/attachments/<int:attachment_id>/",
        AttachmentFileApi.as_view(),
        name="inbox-attachment",
    ),
    path(f"{ORG}/contacts/<int:contact_id>/", ContactDetailApi.as_view(), name="inbox-contact"),
    path(f"{ORG}/agents/", AgentListApi.as_view(), name="inbox-agents"),
    path(f"{ORG}/agents/me/", AgentMeApi.as_view(), name="inbox-agent-me"),
    path(f"{ORG}/agents/<int:user_id>/", AgentDetailApi.as_view(), name="inbox-agent"),
    path(f"{ORG}/supervisor/", SupervisorApi.as_view(), name="inbox-supervisor"),
    path(f"{ORG}/departments/", DepartmentListApi.as_view(), name="inbox-departments"),
    path(
        f"{ORG}/departments/<int:department_id>/",
        DepartmentDetailApi.as_view(),
        name="inbox-department",
    ),
    path(f"{ORG}/queues/", QueueListApi.as_view(), name="inbox-queues"),
    path(f"{ORG}/queues/<int:queue_id>/", QueueDetailApi.as_view(), name="inbox-queue"),
    path(
        f"{ORG}/queues/<int:queue_id>/members/",
        QueueMembersApi.as_view(),
        name="inbox-queue-members",
    ),
    path(
        f"{ORG}/queues/<int:queue_id>/members/<int:user_id>/",
        QueueMemberApi.as_view(),
        name="inbox-queue-member",
    ),
    path(f"{ORG}/canned/", CannedListApi.as_view(), name="inbox-canned"),
    path(f"{ORG}/canned/<int:canned_id>/", CannedDetailApi.as_view(), name="inbox-canned-detail"),
    path(f"{ORG}/widget/", WidgetSettingsApi.as_view(), name="inbox-widget"),
    path(f"{ORG}/widget/rotate-key/", WidgetRotateKeyApi.as_view(), name="inbox-widget-rotate"),
]
