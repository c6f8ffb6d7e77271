"""Input and output shapes of the chat rooms and messages API.

Outputs render the dicts built by ``chat.selectors`` (``room_data``, ``message_data``), the
same dicts the socket events carry, so a client merges an event and a REST answer alike.
"""

from __future__ import annotations

from rest_framework import serializers

from chat.models import CHANNEL_KINDS, MessageKind, NotifyLevel, RoomRole
from core.serializers import InputSerializer

# A bound far above any real use; it keeps absurd lists out of queries.
MAX_PEOPLE = 200
MAX_ATTACHMENTS = 10


class UserBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class RoomOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organization_id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    topic = serializers.CharField()
    archived = serializers.BooleanField()
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    role = serializers.CharField(
        allow_null=True, help_text="My role in the room (null: not in it)."
    )
    notify = serializers.CharField()
    last_read_message_id = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    mention_count = serializers.IntegerField()
    member_count = serializers.IntegerField()
    direct_members = UserBriefOutput(many=True, help_text="DMs: the other people; [] otherwise.")


class RoomMemberOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The user's id.")
    name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)
    role = serializers.CharField()
    last_read_message_id = serializers.IntegerField()


class RoomDetailOutput(RoomOutput):
    members = RoomMemberOutput(many=True)


class ChannelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    topic = serializers.CharField()
    member_count = serializers.IntegerField()
    is_member = serializers.BooleanField()
    archived = serializers.BooleanField()


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    avatar_url = serializers.CharField(allow_null=True)
    role = serializers.CharField(help_text="Organization role.")


class ReactionOutput(serializers.Serializer):
    emoji = serializers.CharField()
    char = serializers.CharField()
    count = serializers.IntegerField()
    user_ids = serializers.ListField(child=serializers.IntegerField())


class MessageAttachmentOutput(serializers.Serializer):
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


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    room_id = serializers.IntegerField()
    author = UserBriefOutput(allow_null=True)
    kind = serializers.CharField()
    body = serializers.CharField(help_text="What the author wrote (mentions as <@id>).")
    html = serializers.CharField(help_text="Rendered on the server from escaped text: safe.")
    parent_id = serializers.IntegerField(allow_null=True)
    reply_count = serializers.IntegerField()
    last_reply_at = serializers.DateTimeField(allow_null=True)
    mentions = serializers.ListField(child=serializers.IntegerField())
    mentions_all = serializers.BooleanField()
    mentions_here = serializers.BooleanField()
    reactions = ReactionOutput(many=True)
    attachments = MessageAttachmentOutput(many=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()
    pinned = serializers.BooleanField()
    pinned_at = serializers.DateTimeField(allow_null=True)
    client_id = serializers.CharField(allow_null=True)


class MessagePageOutput(serializers.Serializer):
    results = MessageOutput(many=True)
    has_more = serializers.BooleanField()


class ReadStateOutput(serializers.Serializer):
    last_read_message_id = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    mention_count = serializers.IntegerField()


class PreferencesOutput(serializers.Serializer):
    notify = serializers.CharField()


class RoomCreateInput(InputSerializer):
    kind = serializers.ChoiceField(choices=[str(kind) for kind in CHANNEL_KINDS])
    name = serializers.CharField(max_length=81)
    topic = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_PEOPLE,
        required=False,
        default=list,
    )


class DirectOpenInput(InputSerializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_PEOPLE
    )


class RoomUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=81, required=False)
    topic = serializers.CharField(max_length=250, required=False, allow_blank=True)


class MembersAddInput(InputSerializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_PEOPLE
    )


class MemberRoleInput(InputSerializer):
    role = serializers.ChoiceField(choices=RoomRole.choices)


class ReadInput(InputSerializer):
    message_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class PreferencesInput(InputSerializer):
    notify = serializers.ChoiceField(choices=NotifyLevel.choices)


class MessageSendInput(InputSerializer):
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    parent_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_ATTACHMENTS,
        required=False,
        default=list,
    )
    kind = serializers.ChoiceField(
        choices=[MessageKind.TEXT, MessageKind.VOICE], required=False, default=MessageKind.TEXT
    )


class MessageEditInput(InputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ReactionInput(InputSerializer):
    emoji = serializers.CharField(max_length=64)


class MessagePageQuery(InputSerializer):
    before = serializers.IntegerField(min_value=1, required=False)
    after = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False)

    def validate(self, attrs: dict[str, int]) -> dict[str, int]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError("Use before or after, not both.")
        return attrs


class RepliesQuery(InputSerializer):
    after = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False)
