"""Waiting lines. The marketplace queue: clients waiting for a busy professional.

(Support departments and queues join this module with the support inbox.)
"""

from __future__ import annotations

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
