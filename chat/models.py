"""Team chat: rooms, messages, reactions, attachments, read state, notifications, presence.

Rooms belong to one organization. A ``RoomMember`` row is the grant to a room: public
channels are open to any member of the organization (joining creates the row); private
channels, direct messages and group DMs are reachable only through the row.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import private_storage
from core.models import TimestampedModel


class RoomKind(models.TextChoices):
    CHANNEL = "channel", _("Public channel")
    PRIVATE = "private", _("Private channel")
    DIRECT = "direct", _("Direct message")
    GROUP = "group", _("Group direct message")
    # A support conversation's messages (queueing.Conversation owns the room). It has no
    # RoomMember rows, so chat's own rooms, search and notifications never reach it.
    SUPPORT = "support", _("Support conversation")


CHANNEL_KINDS = (RoomKind.CHANNEL, RoomKind.PRIVATE)
DIRECT_KINDS = (RoomKind.DIRECT, RoomKind.GROUP)


class Room(TimestampedModel):
    """A place where messages are posted: a channel, a direct message or a group DM."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="chat_rooms"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RoomKind.choices)
    name = models.CharField(_("name"), max_length=80, blank=True)
    topic = models.CharField(_("topic"), max_length=250, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # Direct rooms are found by their sorted participant ids ("3:7:12"), so asking twice for a
    # DM with the same people opens the same room.
    direct_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RoomKind.values), name="chat_room_kind_valid"
            ),
            models.UniqueConstraint(
                fields=("organization", "name"),
                condition=Q(kind__in=CHANNEL_KINDS),
                name="chat_room_channel_name_unique",
            ),
            models.UniqueConstraint(
                fields=("organization", "direct_key"),
                condition=Q(direct_key__isnull=False),
                name="chat_room_direct_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=(*CHANNEL_KINDS, RoomKind.SUPPORT), direct_key__isnull=True)
                | Q(kind__in=DIRECT_KINDS, direct_key__isnull=False),
                name="chat_room_direct_key_for_direct_rooms",
            ),
        ]
        indexes = [models.Index(fields=("organization", "kind"))]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} {self.pk}"

    @property
    def is_channel(self) -> bool:
        return self.kind in CHANNEL_KINDS

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class RoomRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class NotifyLevel(models.TextChoices):
    ALL = "all", _("All messages")
    MENTIONS = "mentions", _("Mentions only")
    NOTHING = "nothing", _("Nothing")


class RoomMember(TimestampedModel):
    """A user's place in a room: their channel role, read position and notification level."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=RoomRole.choices, default=RoomRole.MEMBER
    )
    # Every message with a greater id (top level, from someone else) is unread.
    last_read_message_id = models.BigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)
    notify = models.CharField(
        _("notifications"), max_length=10, choices=NotifyLevel.choices, default=NotifyLevel.ALL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("room", "user"), name="chat_roommember_unique"),
            models.CheckConstraint(
                condition=Q(role__in=RoomRole.values), name="chat_roommember_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(notify__in=NotifyLevel.values), name="chat_roommember_notify_valid"
            ),
        ]
        indexes = [models.Index(fields=("user", "room"))]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    VOICE = "voice", _("Voice message")
    SYSTEM = "system", _("System")
    # Staff-only message in a support conversation: never shown to the contact.
    NOTE = "note", _("Internal note")


class Message(models.Model):
    """A message in a room, or a reply in a message's thread.

    ``body`` keeps what the author wrote (the small markup, mentions as ``<@id>``); ``html`` is
    its rendering, built on the server from escaped text, so nothing the author typed can
    become markup. A deleted message keeps its row (and thread) with both emptied.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
    )
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.TEXT)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    reply_count = models.PositiveIntegerField(default=0)
    last_reply_at = models.DateTimeField(null=True, blank=True)
    mentions_all = models.BooleanField(default=False)  # @channel / @all
    mentions_here = models.BooleanField(default=False)  # @here
    # Support rooms: written by the conversation's contact (a widget visitor has no author;
    # a signed-in student is also the author).
    by_contact = models.BooleanField(default=False)
    # The sender's own id for this message: a retried send with the same one is the same
    # message, never a second copy.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("author", "client_id"),
                condition=Q(client_id__isnull=False),
                name="chat_message_client_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=MessageKind.values), name="chat_message_kind_valid"
            ),
            # A visitor has no author row, so their retries are made unique per room.
            models.UniqueConstraint(
                fields=("room", "client_id"),
                condition=Q(by_contact=True, client_id__isnull=False),
                name="chat_message_contact_client_id_unique",
            ),
            models.CheckConstraint(
                condition=~Q(kind="note", by_contact=True), name="chat_message_note_by_staff"
            ),
        ]
        indexes = [
            # History pages and unread counts: top-level messages of a room by id.
            models.Index(fields=("room", "parent", "id"), name="chat_message_room_feed"),
            models.Index(fields=("organization", "created_at"), name="chat_message_org_time"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.room_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class MessageMention(models.Model):
    """A user named with ``@`` in a message (``@channel`` and ``@here`` are flags on it)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("message", "user"), name="chat_mention_unique")
        ]
        indexes = [models.Index(fields=("user", "message"))]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.message_id}"


class Reaction(models.Model):
    """One person's emoji on a message; each person uses each emoji once."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("message", "user", "emoji"), name="chat_reaction_unique"
            )
        ]

    def __str__(self) -> str:
        return f":{self.emoji}: by {self.user_id}"


class AttachmentKind(models.TextChoices):
    FILE = "file", _("File")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")


def attachment_upload_path(instance: Attachment, filename: str) -> str:
    # Random names: the original name is kept in a column, never in the storage path.
    suffix = Path(filename).suffix.lower()[:8]
    return f"chat/{instance.organization_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(TimestampedModel):
    """A file uploaded to a room, served only to the room's members.

    Uploaded first (``message`` empty), then attached by the message that sends it; uploads
    never sent are purged after a day.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_upload_path, storage=private_storage)
    thumbnail = models.FileField(
        upload_to=attachment_upload_path, storage=private_storage, blank=True
    )
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AttachmentKind.values), name="chat_attachment_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    DIRECT_MESSAGE = "direct_message", _("Direct message")
    THREAD_REPLY = "thread_reply", _("Thread reply")
    MESSAGE = "message", _("New message")
    CALL = "call", _("Call")
    QUEUE_TURN = "queue_turn", _("Your turn in a queue")
    SUPPORT_CONVERSATION = "support_conversation", _("New support conversation")
    SUPPORT_ASSIGNED = "support_assigned", _("Support conversation assigned to you")
    SUPPORT_MENTION = "support_mention", _("Mention in an internal note")
    SUPPORT_SLA_WARNING = "support_sla_warning", _("SLA about to be breached")
    SUPPORT_SLA_BREACH = "support_sla_breach", _("SLA breached")
    CRM_TASK_DUE = "crm_task_due", _("CRM task due")
    CRM_DEAL_ASSIGNED = "crm_deal_assigned", _("Deal assigned to you")
    CRM_IMPORT_FINISHED = "crm_import_finished", _("Import finished")
    CRM_SYNC_FAILED = "crm_sync_failed", _("BotConversa sync failed")


class Notification(models.Model):
    """Something a user should see, kept until read (the notification centre's rows).

    ``source`` names what caused it ("message:42"), unique per user, so a retried fan-out
    never notifies twice.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30)
    source = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("user", "source"), name="chat_notification_source_unique"
            )
        ]
        indexes = [
            models.Index(fields=("user", "id"), name="chat_notification_user_feed"),
            models.Index(
                fields=("user", "created_at"),
                condition=Q(read_at__isnull=True),
                name="chat_notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class UserChatSettings(TimestampedModel):
    """A user's status, do-not-disturb and notification preferences (one row per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_settings"
    )
    status_text = models.CharField(_("status"), max_length=100, blank=True)
    status_emoji = models.CharField(_("status emoji"), max_length=64, blank=True)
    status_expires_at = models.DateTimeField(null=True, blank=True)
    # Do not disturb: until a moment, and/or on a weekly schedule in the user's time zone,
    # stored as [{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}, ...].
    dnd_until = models.DateTimeField(null=True, blank=True)
    dnd_schedule = models.JSONField(default=list, blank=True)
    sound_enabled = models.BooleanField(default=True)
    desktop_enabled = models.BooleanField(default=True)
    email_enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"chat settings of {self.user_id}"


class PresenceConnection(models.Model):
    """One open socket (a tab or a device) and what it last reported.

    Rows are deleted on disconnect; a row whose heartbeats stopped (a crashed server) is
    swept after the timeout. A user is connected while any row is fresh.
    """

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence_connections"
    )
    connected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_active_at = models.DateTimeField(null=True, blank=True)
    # The room on screen in a visible tab, so notifications for it stay quiet.
    viewing_room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visible = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=("user", "last_seen_at"))]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.channel_name}"


class PresenceSession(models.Model):
    """A stretch of time a user was connected (all tabs merged), closed after a silence."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence_sessions"
    )
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_active_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    online_seconds = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("user",),
                condition=Q(ended_at__isnull=True),
                name="chat_presencesession_one_open",
            ),
            models.CheckConstraint(
                condition=Q(active_seconds__lte=models.F("online_seconds")),
                name="chat_presencesession_active_within_online",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} from {self.started_at}"


class OnlineDay(models.Model):
    """A user's online and active time on one calendar day (in their time zone)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="online_days"
    )
    day = models.DateField()
    online_seconds = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "day"), name="chat_onlineday_unique"),
            models.CheckConstraint(
                condition=Q(active_seconds__lte=models.F("online_seconds")),
                name="chat_onlineday_active_within_online",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"
