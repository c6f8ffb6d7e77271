"""Shared model building blocks. No business rules live here."""

from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    """Abstract base that records when a row was created and last changed (UTC)."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
