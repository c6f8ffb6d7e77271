"""Professionals' profiles, 1-to-1 calls with their billing state, ratings and in-call messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel


class ProfessionalStatus(models.TextChoices):
    """What clients see: online (can be called), busy (in a call or offering a turn), offline."""

    ONLINE = "online", _("Online")
    BUSY = "busy", _("Busy")
    OFFLINE = "offline", _("Offline")


class Specialty(models.Model):
    """A field professionals work in (psychology, law...), the catalog's main filter."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ProfessionalProfile(TimestampedModel):
    """A professional's public page: who they are, what a minute costs, whether they answer."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="professional_profile"
    )
    headline = models.CharField(_("headline"), max_length=120, blank=True)
    bio = models.TextField(_("bio"), max_length=4000, blank=True)
    photo = models.ImageField(_("photo"), upload_to="professionals/%Y/%m/", blank=True)
    specialties = models.ManyToManyField(
        Specialty, verbose_name=_("specialties"), related_name="professionals", blank=True
    )
    # Language codes (settings.LANGUAGES keys plus any ISO 639-1 code), as a small table so the
    # catalog can filter on them on SQLite and PostgreSQL alike (see ProfessionalLanguage).
    price_per_minute = models.PositiveIntegerField(_("price per minute (tokens)"))
    # The professional's own switch: "I take calls now". Presence can still make them offline.
    accepting_calls = models.BooleanField(_("taking calls"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ProfessionalStatus.choices,
        default=ProfessionalStatus.OFFLINE,
        db_index=True,
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When the professional's last socket closed (None while one is open): past
    # CALLS_OFFLINE_AFTER_SECONDS they are offline even with the switch on.
    presence_lost_at = models.DateTimeField(null=True, blank=True)
    # Listed in the catalog; staff can hide a profile without deleting it.
    is_listed = models.BooleanField(_("listed"), default=True)
    # Kept by the rating and call services under the profile's row lock, for sorting.
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    calls_completed = models.PositiveIntegerField(default=0)
    # Average length of finished calls in seconds (for the queue's estimated wait).
    average_call_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("professional profile")
        verbose_name_plural = _("professional profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_minute__gt=0), name="calls_profile_price_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(rating_sum__gte=F("rating_count"))
                & Q(rating_sum__lte=F("rating_count") * 5),
                name="calls_profile_rating_sum_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=("-rating_average", "id"), name="calls_profile_rating_idx"),
            models.Index(fields=("price_per_minute", "id"), name="calls_profile_price_idx"),
            models.Index(fields=("-calls_completed", "id"), name="calls_profile_popular_idx"),
        ]

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class ProfessionalLanguage(models.Model):
    """A language a professional takes calls in."""

    profile = models.ForeignKey(
        ProfessionalProfile, on_delete=models.CASCADE, related_name="languages"
    )
    code = models.CharField(_("language"), max_length=10, db_index=True)

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")
        constraints = [
            models.UniqueConstraint(fields=("profile", "code"), name="calls_language_unique")
        ]

    def __str__(self) -> str:
        return self.code


class AvailabilitySlot(models.Model):
    """A weekly window the professional expects to take calls, in their own time zone."""

    profile = models.ForeignKey(
        ProfessionalProfile, on_delete=models.CASCADE, related_name="availability"
    )
    # Monday is 0, as in datetime.weekday().
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start_minute = models.PositiveSmallIntegerField(_("starts (minutes after midnight)"))
    end_minute = models.PositiveSmallIntegerField(_("ends (minutes after midnight)"))

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ("weekday", "start_minute")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="calls_slot_weekday"),
            models.CheckConstraint(
                condition=Q(start_minute__lt=F("end_minute")) & Q(end_minute__lte=24 * 60),
                name="calls_slot_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"


class CallStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    RINGING = "ringing", _("Ringing")
    ACCEPTED = "accepted", _("Connecting")
    ACTIVE = "active", _("In progress")
    ENDED = "ended", _("Ended")
    REJECTED = "rejected", _("Declined")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


# A call in one of these holds both people: at most one per client and one per professional.
LIVE_STATUSES = (CallStatus.REQUESTED, CallStatus.RINGING, CallStatus.ACCEPTED, CallStatus.ACTIVE)
# Signaling (offer, answer, ICE) is relayed only while the call is in one of these.
SIGNALING_STATUSES = (CallStatus.RINGING, CallStatus.ACCEPTED, CallStatus.ACTIVE)
FINAL_STATUSES = (
    CallStatus.ENDED,
    CallStatus.REJECTED,
    CallStatus.MISSED,
    CallStatus.CANCELLED,
    CallStatus.FAILED,
)


class EndReason(models.TextChoices):
    CLIENT_HUNG_UP = "client_hung_up", _("The client hung up")
    PROFESSIONAL_HUNG_UP = "professional_hung_up", _("The professional hung up")
    BALANCE_EXHAUSTED = "balance_exhausted", _("The balance ran out")
    DISCONNECTED = "disconnected", _("A side lost its connection")
    NO_ANSWER = "no_answer", _("No answer")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled by the client")
    MEDIA_TIMEOUT = "media_timeout", _("The video never connected")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Not enough balance for the minimum fee")
    PROFESSIONAL_OFFLINE = "professional_offline", _("The professional went offline")


class MediaPath(models.TextChoices):
    WEBRTC = "webrtc", _("WebRTC (STUN/TURN)")
    AGORA = "agora", _("Agora")


class Call(TimestampedModel):
    """One 1-to-1 call: its state machine, its server timestamps and its billing progress.

    Billing state, changed only by ``calls.billing`` under this row's lock:

    - ``billed_units``: units (``billing_unit_seconds`` long) already charged; a unit is
      charged when it starts, so the call has paid for ``billed_units * unit`` seconds of
      connected time;
    - ``connected_seconds``: connected time of the segments that are over (a side dropped);
    - ``segment_started_at``: when both sides were last connected together (None while paused);
    - ``next_charge_at``: when the next unit starts and must be charged (None while paused or
      not active). The billing task picks calls by this column.
    """

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls_made"
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls_received"
    )
    status = models.CharField(
        max_length=10, choices=CallStatus.choices, default=CallStatus.REQUESTED, db_index=True
    )
    end_reason = models.CharField(max_length=30, choices=EndReason.choices, blank=True)
    media_path = models.CharField(
        max_length=10, choices=MediaPath.choices, default=MediaPath.WEBRTC
    )
    # Prices are copied when the call is requested: a change of price never reaches a call
    # already placed.
    price_per_minute = models.PositiveIntegerField()
    minimum_fee = models.PositiveIntegerField()
    billing_unit_seconds = models.PositiveIntegerField()
    # Set when the call came from the professional's queue (its fee counts toward the call).
    queue_entry = models.OneToOneField(
        "queueing.MarketplaceQueueEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call",
    )
    # Server timestamps of the lifecycle.
    requested_at = models.DateTimeField(default=timezone.now)
    ringing_at = models.DateTimeField(null=True, blank=True)
    ring_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    connect_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The minimum fee, held from the client's wallet when the professional accepts.
    minimum_hold = models.OneToOneField(
        "wallet.Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Media state reported by each side (and cleared when its last socket closes).
    client_connected = models.BooleanField(default=False)
    professional_connected = models.BooleanField(default=False)
    # Set when a side dropped during an active call: past it, the call ends.
    disconnect_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    # Billing progress (see the class docstring).
    billed_units = models.PositiveIntegerField(default=0)
    billed_amount = models.PositiveBigIntegerField(default=0)
    connected_seconds = models.PositiveIntegerField(default=0)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    next_charge_at = models.DateTimeField(null=True, blank=True, db_index=True)
    low_balance_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(
                condition=~Q(client=F("professional")), name="calls_call_not_yourself"
            ),
            models.CheckConstraint(
                condition=Q(price_per_minute__gt=0) & Q(billing_unit_seconds__gt=0),
                name="calls_call_prices_positive",
            ),
            # One live call per person on each side: the database, not a check in Python,
            # is what makes a professional busy.
            models.UniqueConstraint(
                fields=("professional",),
                condition=Q(status__in=LIVE_STATUSES),
                name="calls_one_live_call_per_professional",
            ),
            models.UniqueConstraint(
                fields=("client",),
                condition=Q(status__in=LIVE_STATUSES),
                name="calls_one_live_call_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=("client", "-requested_at"), name="calls_client_history_idx"),
            models.Index(fields=("professional", "-requested_at"), name="calls_pro_history_idx"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        """The ledger reference of every charge of this call (what a dispute names)."""
        return f"call:{self.pk}"

    def other_party_id(self, user_id: int) -> int:
        return self.professional_id if user_id == self.client_id else self.client_id


class CallRating(TimestampedModel):
    """The client's stars and comment for one call; one per call, never edited."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="rating")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings_received"
    )
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(stars__gte=1) & Q(stars__lte=5), name="calls_rating_stars_1_to_5"
            )
        ]
        indexes = [
            models.Index(fields=("professional", "-created_at"), name="calls_rating_pro_idx")
        ]

    def __str__(self) -> str:
        return f"{self.stars} stars for call {self.call_id}"


class CallMessage(models.Model):
    """An end-to-end encrypted in-call chat message: the server only ever sees ciphertext."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # AES-GCM output and its 96-bit nonce, base64 (standard alphabet), as the browser sent them.
    ciphertext = models.TextField(max_length=16000)
    iv = models.CharField(max_length=24)
    # Chosen by the sender's browser: a retried send is the same message.
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call message")
        verbose_name_plural = _("call messages")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("sender", "client_id"), name="calls_message_client_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in call {self.call_id}"
