"""Chat API: rooms, membership, read state, messages, threads, reactions and pins.

Organization-scoped lists answer 404 to outsiders; a room or message the caller cannot see
answers 404 as if it did not exist (``chat.selectors``). Each command calls one service.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from accounts.selectors import membership_get_or_404
from chat import selectors, services
from chat.api import serializers
from chat.models import Message, Room
from core.pagination import PagePagination


class IsOrganizationMember(BasePermission):
    """Signed in and a member of ``view.kwargs['organization_id']`` (outsiders get 404)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        request.membership = membership_get_or_404(  # type: ignore[attr-defined]
            user=request.user, organization_id=int(view.kwargs["organization_id"])
        )
        return True


def _room(request: Request, room_id: int) -> Room:
    return selectors.room_get_visible(user=signed_in_user(request), room_id=room_id)


def _message(request: Request, message_id: int) -> Message:
    return selectors.message_get_visible(user=signed_in_user(request), message_id=message_id)


def _room_payload(request: Request, room: Room) -> dict[str, Any]:
    data = selectors.room_data_for_user(user=signed_in_user(request), room=room)
    return dict(serializers.RoomOutput(data).data)


def _room_detail_payload(request: Request, room: Room) -> dict[str, Any]:
    data: dict[str, Any] = dict(
        selectors.room_data_for_user(user=signed_in_user(request), room=room)
    )
    data["members"] = [
        {
            "id": member.user_id,
            "name": member.user.get_full_name(),
            "avatar_url": selectors.avatar_url(member.user),
            "role": member.role,
            "last_read_message_id": member.last_read_message_id,
        }
        for member in selectors.room_members(room=room)
    ]
    return dict(serializers.RoomDetailOutput(data).data)


def _message_payload(message: Message) -> dict[str, Any]:
    return dict(serializers.MessageOutput(selectors.message_data_by_id(message.pk)).data)


def _page_payload(messages: list[Message], has_more: bool) -> dict[str, Any]:
    return {
        "results": serializers.MessageOutput(
            [selectors.message_data(message) for message in messages], many=True
        ).data,
        "has_more": has_more,
    }


# --- Organization-scoped -------------------------------------------------------------------------


class RoomListApi(APIView):
    """My rooms in an organization (joined channels, private channels, DMs); create a channel."""

    permission_classes = (IsOrganizationMember,)

    @extend_schema(responses=serializers.RoomOutput(many=True), summary="My chat rooms")
    def get(self, request: Request, organization_id: int) -> Response:
        rooms = selectors.room_list_for_user(
            user=signed_in_user(request), organization_id=organization_id
        )
        return Response(serializers.RoomOutput(rooms, many=True).data)

    @extend_schema(
        request=serializers.RoomCreateInput,
        responses={201: serializers.RoomOutput},
        summary="Create a channel",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.RoomCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.room_create_channel(
            user=signed_in_user(request), organization_id=organization_id, **data.validated_data
        )
        return Response(_room_payload(request, room), status=status.HTTP_201_CREATED)


class ChannelBrowseApi(APIView):
    """The organization's public channels, to browse and join."""

    permission_classes = (IsOrganizationMember,)

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Name or topic.")],
        responses=serializers.ChannelOutput(many=True),
        summary="Browse public channels",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        rooms = selectors.channel_browse(
            user=signed_in_user(request),
            organization_id=organization_id,
            query=request.query_params.get("q", "").strip()[:80],
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(rooms, request, view=self) or []
        items = [
            {
                "id": room.pk,
                "name": room.name,
                "topic": room.topic,
                "member_count": room.member_count,  # type: ignore[attr-defined]
                "is_member": room.is_member,  # type: ignore[attr-defined]
                "archived": room.archived_at is not None,
            }
            for room in page
        ]
        return paginator.get_paginated_response(serializers.ChannelOutput(items, many=True).data)


class DirectRoomOpenApi(APIView):
    """Open the DM (one other person) or group DM with these people; the same people always
    get the same room (200), a new one is 201."""

    permission_classes = (IsOrganizationMember,)

    @extend_schema(
        request=serializers.DirectOpenInput,
        responses={200: serializers.RoomOutput, 201: serializers.RoomOutput},
        summary="Open a direct message",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.DirectOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        room, created = services.direct_room_get_or_create(
            user=signed_in_user(request),
            organization_id=organization_id,
            user_ids=data.validated_data["user_ids"],
        )
        return Response(
            _room_payload(request, room),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PeopleApi(APIView):
    """Members of the organization, for mentions and the DM picker (20 best when searching)."""

    permission_classes = (IsOrganizationMember,)

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Name or email.")],
        responses=serializers.PersonOutput(many=True),
        summary="People to mention or message",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        query = request.query_params.get("q", "").strip()[:100]
        people = selectors.people_for_mentions(organization_id=organization_id, query=query)

        def item(membership: Any) -> dict[str, Any]:
            return {
                "id": membership.user_id,
                "name": membership.user.get_full_name(),
                "email": membership.user.email,
                "avatar_url": selectors.avatar_url(membership.user),
                "role": membership.role,
            }

        if query:
            found = [item(row) for row in people[: selectors.PEOPLE_SEARCH_LIMIT]]
            return Response(serializers.PersonOutput(found, many=True).data)
        paginator = PagePagination()
        page = paginator.paginate_queryset(people, request, view=self) or []
        return paginator.get_paginated_response(
            serializers.PersonOutput([item(row) for row in page], many=True).data
        )


# --- Room-scoped ---------------------------------------------------------------------------------


class RoomDetailApi(APIView):
    """A room with its members; rename it or set its topic (channels' owners/admins, org admins)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.RoomDetailOutput, summary="A chat room")
    def get(self, request: Request, room_id: int) -> Response:
        return Response(_room_detail_payload(request, _room(request, room_id)))

    @extend_schema(
        request=serializers.RoomUpdateInput,
        responses=serializers.RoomDetailOutput,
        summary="Change a channel's name or topic",
    )
    def patch(self, request: Request, room_id: int) -> Response:
        data = serializers.RoomUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.room_update(
            user=signed_in_user(request), room=_room(request, room_id), **data.validated_data
        )
        return Response(_room_detail_payload(request, room))


class RoomArchiveApi(APIView):
    """Archive a channel: readable, closed to new messages."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.RoomOutput, summary="Archive a channel")
    def post(self, request: Request, room_id: int) -> Response:
        room = services.room_archive(user=signed_in_user(request), room=_room(request, room_id))
        return Response(_room_payload(request, room))


class RoomUnarchiveApi(APIView):
    """Reopen an archived channel."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.RoomOutput, summary="Unarchive a channel")
    def post(self, request: Request, room_id: int) -> Response:
        room = services.room_unarchive(user=signed_in_user(request), room=_room(request, room_id))
        return Response(_room_payload(request, room))


class RoomJoinApi(APIView):
    """Join a public channel."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.RoomOutput, summary="Join a channel")
    def post(self, request: Request, room_id: int) -> Response:
        room = _room(request, room_id)
        services.room_join(user=signed_in_user(request), room=room)
        return Response(_room_payload(request, room))


class RoomLeaveApi(APIView):
    """Leave a channel or a group DM."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None}, summary="Leave a room")
    def post(self, request: Request, room_id: int) -> Response:
        services.room_leave(user=signed_in_user(request), room=_room(request, room_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomMembersAddApi(APIView):
    """Invite members of the organization to a channel."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.MembersAddInput,
        responses=serializers.RoomDetailOutput,
        summary="Invite people to a channel",
    )
    def post(self, request: Request, room_id: int) -> Response:
        data = serializers.MembersAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        room = _room(request, room_id)
        services.room_members_add(
            user=signed_in_user(request), room=room, user_ids=data.validated_data["user_ids"]
        )
        return Response(_room_detail_payload(request, room))


class RoomMemberApi(APIView):
    """Change a member's role in a channel, or remove them."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.MemberRoleInput,
        responses=serializers.RoomDetailOutput,
        summary="Set a member's channel role",
    )
    def patch(self, request: Request, room_id: int, user_id: int) -> Response:
        data = serializers.MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        room = _room(request, room_id)
        services.room_member_role_set(
            user=signed_in_user(request),
            room=room,
            user_id=user_id,
            role=data.validated_data["role"],
        )
        return Response(_room_detail_payload(request, room))

    @extend_schema(responses={204: None}, summary="Remove a member from a channel")
    def delete(self, request: Request, room_id: int, user_id: int) -> Response:
        services.room_member_remove(
            user=signed_in_user(request), room=_room(request, room_id), user_id=user_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomReadApi(APIView):
    """Mark the room read up to a message (default: the latest); never moves backwards."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.ReadInput,
        responses=serializers.ReadStateOutput,
        summary="Mark a room read",
    )
    def post(self, request: Request, room_id: int) -> Response:
        data = serializers.ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        state = services.room_mark_read(
            user=signed_in_user(request),
            room=_room(request, room_id),
            message_id=data.validated_data.get("message_id"),
        )
        return Response(serializers.ReadStateOutput(state).data)


class RoomPreferencesApi(APIView):
    """Which messages of this room notify me: all, mentions or nothing."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.PreferencesInput,
        responses=serializers.PreferencesOutput,
        summary="Set my notifications for a room",
    )
    def patch(self, request: Request, room_id: int) -> Response:
        data = serializers.PreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.room_notify_set(
            user=signed_in_user(request),
            room=_room(request, room_id),
            notify=data.validated_data["notify"],
        )
        return Response(serializers.PreferencesOutput({"notify": member.notify}).data)


PAGE_PARAMS = [
    OpenApiParameter("before", OpenApiTypes.INT, description="Older than this id (newest first)."),
    OpenApiParameter("after", OpenApiTypes.INT, description="Newer than this id (oldest first)."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 100 (default 50)."),
]


class RoomMessagesApi(APIView):
    """A room's top-level messages by cursor; post a message or a thread reply.

    Posting is throttled per person (scope ``chat_message``): a flood gets 429 and nothing is
    stored. A retry with the same ``client_id`` answers 200 with the first message.
    """

    permission_classes = (IsAuthenticated,)
    throttle_scope = "chat_message"

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = list(super().get_throttles())
        if self.request.method == "POST":
            throttles.append(ScopedRateThrottle())
        return throttles

    @extend_schema(
        parameters=PAGE_PARAMS, responses=serializers.MessagePageOutput, summary="Messages"
    )
    def get(self, request: Request, room_id: int) -> Response:
        room = _room(request, room_id)
        query = serializers.MessagePageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages, has_more = selectors.message_page(room=room, **query.validated_data)
        return Response(_page_payload(messages, has_more))

    @extend_schema(
        request=serializers.MessageSendInput,
        responses={
            201: serializers.MessageOutput,
            200: OpenApiResponse(serializers.MessageOutput, description="A retried client_id."),
        },
        summary="Send a message",
    )
    def post(self, request: Request, room_id: int) -> Response:
        data = serializers.MessageSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_send(
            user=signed_in_user(request), room=_room(request, room_id), **data.validated_data
        )
        return Response(
            _message_payload(message),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoomPinsApi(APIView):
    """The room's pinned messages, most recently pinned first."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.MessageOutput(many=True), summary="Pinned messages")
    def get(self, request: Request, room_id: int) -> Response:
        pins = selectors.room_pins(room=_room(request, room_id))
        return Response(
            serializers.MessageOutput([selectors.message_data(m) for m in pins], many=True).data
        )


# --- Message-scoped ------------------------------------------------------------------------------


class MessageDetailApi(APIView):
    """A message; edit it (its author only) or delete it (author, org admin, channel manager)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.MessageOutput, summary="A message")
    def get(self, request: Request, message_id: int) -> Response:
        return Response(_message_payload(_message(request, message_id)))

    @extend_schema(
        request=serializers.MessageEditInput,
        responses=serializers.MessageOutput,
        summary="Edit my message",
    )
    def patch(self, request: Request, message_id: int) -> Response:
        data = serializers.MessageEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(
            user=signed_in_user(request),
            message=_message(request, message_id),
            body=data.validated_data["body"],
        )
        return Response(_message_payload(message))

    @extend_schema(responses=serializers.MessageOutput, summary="Delete a message (leaves a trace)")
    def delete(self, request: Request, message_id: int) -> Response:
        message = services.message_delete(
            user=signed_in_user(request), message=_message(request, message_id)
        )
        return Response(_message_payload(message))


class MessageRepliesApi(APIView):
    """A message's thread, oldest first."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=PAGE_PARAMS[1:],
        responses=serializers.MessagePageOutput,
        summary="Thread replies",
    )
    def get(self, request: Request, message_id: int) -> Response:
        parent = _message(request, message_id)
        query = serializers.RepliesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages, has_more = selectors.thread_replies(parent=parent, **query.validated_data)
        return Response(_page_payload(messages, has_more))


class MessageReactionsApi(APIView):
    """React to a message with an emoji shortcode (once per emoji)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.ReactionInput,
        responses=serializers.MessageOutput,
        summary="Add a reaction",
    )
    def post(self, request: Request, message_id: int) -> Response:
        data = serializers.ReactionInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.reaction_add(
            user=signed_in_user(request),
            message=_message(request, message_id),
            emoji=data.validated_data["emoji"],
        )
        return Response(_message_payload(message))


class MessageReactionDeleteApi(APIView):
    """Take my reaction back."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.MessageOutput, summary="Remove a reaction")
    def delete(self, request: Request, message_id: int, emoji: str) -> Response:
        message = services.reaction_remove(
            user=signed_in_user(request), message=_message(request, message_id), emoji=emoji
        )
        return Response(_message_payload(message))


class MessagePinApi(APIView):
    """Pin a message to its room, or unpin it."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.MessageOutput, summary="Pin a message")
    def post(self, request: Request, message_id: int) -> Response:
        message = services.message_pin(
            user=signed_in_user(request), message=_message(request, message_id)
        )
        return Response(_message_payload(message))

    @extend_schema(responses=serializers.MessageOutput, summary="Unpin a message")
    def delete(self, request: Request, message_id: int) -> Response:
        message = services.message_unpin(
            user=signed_in_user(request), message=_message(request, message_id)
        )
        return Response(_message_payload(message))


ORG = "organizations/<int:organization_id>/chat"
ROOM = "chat/rooms/<int:room_id>"
MESSAGE = "chat/messages/<int:message_id>"

urlpatterns: list[URLPattern] = [
    path(f"{ORG}/rooms/", RoomListApi.as_view(), name="room-list"),
    path(f"{ORG}/channels/", ChannelBrowseApi.as_view(), name="channel-browse"),
    path(f"{ORG}/direct/", DirectRoomOpenApi.as_view(), name="direct-open"),
    path(f"{ORG}/people/", PeopleApi.as_view(), name="people"),
    path(f"{ROOM}/", RoomDetailApi.as_view(), name="room-detail"),
    path(f"{ROOM}/archive/", RoomArchiveApi.as_view(), name="room-archive"),
    path(f"{ROOM}/unarchive/", RoomUnarchiveApi.as_view(), name="room-unarchive"),
    path(f"{ROOM}/join/", RoomJoinApi.as_view(), name="room-join"),
    path(f"{ROOM}/leave/", RoomLeaveApi.as_view(), name="room-leave"),
    path(f"{ROOM}/members/", RoomMembersAddApi.as_view(), name="room-members"),
    path(f"{ROOM}/members/<int:user_id>/", RoomMemberApi.as_view(), name="room-member"),
    path(f"{ROOM}/read/", RoomReadApi.as_view(), name="room-read"),
    path(f"{ROOM}/preferences/", RoomPreferencesApi.as_view(), name="room-preferences"),
    path(f"{ROOM}/messages/", RoomMessagesApi.as_view(), name="room-messages"),
    path(f"{ROOM}/pins/", RoomPinsApi.as_view(), name="room-pins"),
    path(f"{MESSAGE}/", MessageDetailApi.as_view(), name="message-detail"),
    path(f"{MESSAGE}/replies/", MessageRepliesApi.as_view(), name="message-replies"),
    path(f"{MESSAGE}/reactions/", MessageReactionsApi.as_view(), name="message-reactions"),
    path(
        f"{MESSAGE}/reactions/<str:emoji>/",
        MessageReactionDeleteApi.as_view(),
        name="message-reaction",
    ),
    path(f"{MESSAGE}/pin/", MessagePinApi.as_view(), name="message-pin"),
]
