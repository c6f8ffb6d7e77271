"""Waiting lines.

- The marketplace queue: clients waiting for a busy professional (``MarketplaceQueueEntry``).
- The support inbox: an organization's departments and their queues (business hours, SLA,
  routing strategy, member agents), the agents' capacity and availability, contacts (widget
  visitors and signed-in students), their conversations (whose messages are chat messages in
  a ``support`` room), canned responses, CSAT answers and the widget's settings.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Your turn")
    ACCEPTED = "accepted", _("Call started")
    LEFT = "left", _("Left the queue")
    EXPIRED = "expired", _("Turn not taken")
    CANCELLED = "cancelled", _("Queue closed")


# Entries still in line: one per client and professional at most.
OPEN_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class MarketplaceQueueEntry(TimestampedModel):
    """A client's place in a professional's queue, paid for with a held queue fee.

    The order is ``(joined_at, id)`` among open entries; a position is computed, never stored,
    so leaving never rewrites anyone else's row.
    """

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="queue_entries_served"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="queue_entries"
    )
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING, db_index=True
    )
    fee = models.PositiveIntegerField()
    hold = models.OneToOneField(
        "wallet.Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")
        constraints = [
            models.UniqueConstraint(
                fields=("professional", "client"),
                condition=Q(status__in=OPEN_STATUSES),
                name="queueing_one_open_entry_per_client",
            ),
            # At most one turn offered at a time per professional.
            models.UniqueConstraint(
                fields=("professional",),
                condition=Q(status=EntryStatus.OFFERED),
                name="queueing_one_offer_per_professional",
            ),
            models.CheckConstraint(
                condition=~Q(professional=models.F("client")), name="queueing_not_yourself"
            ),
        ]
        indexes = [
            models.Index(fields=("professional", "status", "joined_at", "id"), name="queue_order")
        ]

    def __str__(self) -> str:
        return f"queue entry {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"queue:{self.pk}"


# --- Support inbox ---------------------------------------------------------------------------


class Department(TimestampedModel):
    """A part of the organization that answers contacts (Sales, Support, Finance...)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_departments"
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Offered in the widget's pre-chat form.
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name"), name="queueing_department_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RoutingStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LOAD_BALANCE = "load_balance", _("Load balance")
    MANUAL = "manual", _("Manual (agents pull)")
    SKILLS_BASED = "skills_based", _("Skills based")


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


class SupportQueue(TimestampedModel):
    """A department's line of waiting conversations, with its hours, SLA and routing.

    ``weekly_hours`` is ``[{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}, ...]``
    in ``time_zone`` (an empty list: always open); ``holidays`` is ``["YYYY-MM-DD", ...]``,
    closed all day. SLA targets are in business minutes; empty means no target.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_queues"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="queues")
    name = models.CharField(_("name"), max_length=80)
    # Higher first: the department's first queue receives transfers to the department, and
    # pulling takes conversation priority, then queue priority, then the oldest.
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    routing_strategy = models.CharField(
        _("routing strategy"),
        max_length=20,
        choices=RoutingStrategy.choices,
        default=RoutingStrategy.ROUND_ROBIN,
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default=default_time_zone)
    weekly_hours = models.JSONField(_("weekly hours"), default=list, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"), null=True, blank=True
    )
    sla_warning_minutes = models.PositiveIntegerField(
        _("warn before a breach (minutes)"), default=10
    )
    # An assignee who has not answered in this time loses the conversation back to the
    # queue (0: never).
    requeue_after_seconds = models.PositiveIntegerField(_("re-queue after (seconds)"), default=120)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="QueueMember", related_name="support_queues"
    )

    class Meta:
        verbose_name = _("support queue")
        verbose_name_plural = _("support queues")
        constraints = [
            models.UniqueConstraint(
                fields=("department", "name"), name="queueing_supportqueue_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(routing_strategy__in=RoutingStrategy.values),
                name="queueing_supportqueue_strategy_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QueueMember(TimestampedModel):
    """An agent who serves a queue; ``last_assigned_at`` turns the round-robin wheel."""

    queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_queue_memberships"
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Supervisors hear about the queue's SLA warnings and breaches (with the org admins).
    is_supervisor = models.BooleanField(_("supervisor"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("queue", "user"), name="queueing_queuemember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in queue {self.queue_id}"


class AgentAvailability(models.TextChoices):
    ONLINE = "online", _("Online")
    BUSY = "busy", _("Busy")
    OFFLINE = "offline", _("Offline")


def default_capacity() -> int:
    return int(settings.INBOX_DEFAULT_CAPACITY)


class SupportAgent(TimestampedModel):
    """An agent's inbox state in one organization: capacity, chosen availability, presence.

    An agent receives conversations only while ``availability`` is online, a socket is open
    (``connected``) and ``open_count < capacity``. ``open_count`` is the number of unresolved
    conversations assigned to them, changed only under this row's lock (routing locks it).
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_agents"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_agents"
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=default_capacity)
    availability = models.CharField(
        _("availability"),
        max_length=10,
        choices=AgentAvailability.choices,
        default=AgentAvailability.OFFLINE,
    )
    connected = models.BooleanField(default=False)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("support agent")
        verbose_name_plural = _("support agents")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "user"), name="queueing_supportagent_unique"
            ),
            models.CheckConstraint(
                condition=Q(availability__in=AgentAvailability.values),
                name="queueing_supportagent_availability_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"agent {self.user_id} in {self.organization_id}"


class Contact(TimestampedModel):
    """Someone the organization supports: a widget visitor, or a signed-in student (``user``).

    ``visitor_id`` is inside the visitor's signed token; changing it revokes every token.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_contacts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_contacts",
    )
    name = models.CharField(_("name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # E.164, for contacts reached by phone (WhatsApp through BotConversa).
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    visitor_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "user"),
                condition=Q(user__isnull=False),
                name="queueing_contact_one_per_user",
            )
        ]
        indexes = [
            models.Index(fields=("organization", "email")),
            models.Index(fields=("organization", "phone")),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"contact {self.pk}"


class ConversationChannel(models.TextChoices):
    WIDGET = "widget", _("Website widget")
    IN_APP = "in_app", _("In the app")
    WHATSAPP = "whatsapp", _("WhatsApp")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


UNRESOLVED_STATUSES = (
    ConversationStatus.OPEN,
    ConversationStatus.PENDING,
    ConversationStatus.SNOOZED,
)


class ConversationPriority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class SlaStatus(models.TextChoices):
    NONE = "none", _("No target")
    ACTIVE = "active", _("Running")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")


class Conversation(TimestampedModel):
    """A contact's conversation with the organization, in a queue, maybe assigned.

    Its messages are chat messages in ``room`` (kind ``support``): the contact's have
    ``by_contact``, staff-only notes have kind ``note``. A conversation waits in its queue
    while it is open and unassigned (``waiting_since`` orders the line).
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_conversations"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    room = models.OneToOneField(
        "chat.Room", on_delete=models.PROTECT, related_name="support_conversation"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=ConversationChannel.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ConversationStatus.choices,
        default=ConversationStatus.OPEN,
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=ConversationPriority.choices, default=ConversationPriority.NORMAL
    )
    labels = models.JSONField(_("labels"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    queue = models.ForeignKey(SupportQueue, on_delete=models.PROTECT, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_conversations",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    # Set on assignment when the queue re-queues unanswered conversations; cleared by the
    # assignee's first reply.
    requeue_due_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Created from the offline form (outside business hours or with nobody online).
    offline = models.BooleanField(default=False)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_status = models.CharField(
        max_length=10, choices=SlaStatus.choices, default=SlaStatus.NONE
    )
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_status = models.CharField(
        max_length=10, choices=SlaStatus.choices, default=SlaStatus.NONE
    )
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_contact_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ConversationStatus.values),
                name="queueing_conversation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=ConversationChannel.values),
                name="queueing_conversation_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__lte=ConversationPriority.URGENT),
                name="queueing_conversation_priority_valid",
            ),
            # Waiting means open and unassigned; nothing else carries waiting_since.
            models.CheckConstraint(
                condition=Q(waiting_since__isnull=True)
                | Q(status=ConversationStatus.OPEN, assignee__isnull=True),
                name="queueing_conversation_waiting_is_unassigned",
            ),
            models.CheckConstraint(
                condition=Q(assignee__isnull=True) | Q(assigned_at__isnull=False),
                name="queueing_conversation_assigned_at",
            ),
            # One unresolved conversation per contact and channel.
            models.UniqueConstraint(
                fields=("contact", "channel"),
                condition=Q(status__in=UNRESOLVED_STATUSES),
                name="queueing_conversation_one_unresolved",
            ),
        ]
        indexes = [
            models.Index(
                fields=("queue", "priority", "waiting_since"),
                condition=Q(waiting_since__isnull=False),
                name="queueing_conversation_waiting",
            ),
            models.Index(fields=("assignee", "status"), name="queueing_conversation_assignee"),
            models.Index(fields=("organization", "status", "last_message_at")),
            models.Index(
                fields=("requeue_due_at",),
                condition=Q(requeue_due_at__isnull=False),
                name="queueing_conversation_requeue",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"conversation:{self.pk}"


class ConversationEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    REQUEUED = "requeued", _("Re-queued (no answer)")
    TRANSFERRED = "transferred", _("Transferred")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    LABELS = "labels", _("Labels changed")
    MERGED = "merged", _("Merged")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    CSAT = "csat", _("Rated")


class ConversationEvent(models.Model):
    """What happened to a conversation, append-only: the activity log and the reports' source.

    ``data`` holds the details (``{"from_user": 3, "to_user": 5, "to_queue": 2, "note": ...}``
    for a transfer, ``{"timer": "first_response"}`` for SLA events).
    """

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ConversationEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=("conversation", "id")),
            models.Index(fields=("organization", "kind", "created_at")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.conversation_id}"


class CannedResponse(TimestampedModel):
    """A saved reply, inserted from the composer by typing ``/shortcut``."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="canned_responses"
    )
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "shortcut"), name="queueing_canned_shortcut_unique"
            )
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class CsatResponse(models.Model):
    """The contact's 1-5 rating of a resolved conversation, once, credited to its agent."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="csat")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="queueing_csat_rating_range"
            )
        ]
        indexes = [models.Index(fields=("organization", "agent", "created_at"))]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.conversation_id}"


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


class SupportWidget(TimestampedModel):
    """The organization's website widget: its public key, allowed origins and look."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="support_widget"
    )
    public_key = models.CharField(max_length=40, unique=True, default=new_public_key)
    # Exact origins ("https://www.example.com"); the widget refuses every other page.
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    title = models.CharField(_("title"), max_length=80, blank=True)
    greeting = models.CharField(_("greeting"), max_length=300, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#0f766e")
    # Where offline messages go (empty: the organization's admins).
    offline_email = models.EmailField(_("offline messages go to"), blank=True)

    class Meta:
        verbose_name = _("support widget")
        verbose_name_plural = _("support widgets")

    def __str__(self) -> str:
        return f"widget of {self.organization_id}"
