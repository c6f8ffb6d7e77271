"""Calls for the signaling and media tests, written straight to the database.

These tests are about who may signal, fetch credentials and post messages in a call of a
given status, not about how the call got there, so the row is created as it is.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from calls.models import Call, CallStatus
from calls.tests import factories


def make_call(
    status: str = CallStatus.ACCEPTED,
    *,
    client_user: User | None = None,
    professional_user: User | None = None,
    **fields: Any,
) -> Call:
    """A call between a new client and a new professional (or the ones given) in ``status``."""
    now = timezone.now()
    payer = client_user or factories.verified_user()
    pro = professional_user or factories.professional()
    call: Call = Call.objects.create(
        client=payer,
        professional=pro,
        status=status,
        price_per_minute=5,
        minimum_fee=10,
        billing_unit_seconds=60,
        requested_at=now,
        ringing_at=now,
        answered_at=now if status != CallStatus.RINGING else None,
        ended_at=now if status in (CallStatus.ENDED, CallStatus.CANCELLED) else None,
        **fields,
    )
    return call
