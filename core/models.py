"""Shared model building blocks. No business rules live here."""

from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    """Abstract base that records when a row was created and last changed (UTC)."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class InboundWebhook(models.Model):
    """A provider's webhook event, recorded once: a replay of the same event id is ignored."""

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    payload = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "event_id"), name="core_inboundwebhook_unique_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"
