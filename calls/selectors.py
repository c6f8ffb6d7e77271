"""Reads of calls for the API and the other apps: never create or lock anything."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from calls.models import LIVE_STATUSES, Call
from core.exceptions import NotFoundError


def call_for_user(*, call_id: int, user: Any) -> Call:
    """A call ``user`` takes part in; 404 for a call that does not exist or is someone else's."""
    call = (
        Call.objects.select_related("client", "professional")
        .filter(Q(client_id=user.pk) | Q(professional_id=user.pk), pk=call_id)
        .first()
    )
    if call is None:
        raise NotFoundError()
    return call


def call_live_for_user(*, user: Any) -> Call | None:
    """The user's live call (requested, ringing, accepted or active), on either side."""
    return (
        Call.objects.select_related("client", "professional")
        .filter(Q(client_id=user.pk) | Q(professional_id=user.pk), status__in=LIVE_STATUSES)
        .order_by("-requested_at", "-pk")
        .first()
    )


def call_is_participant(*, call_id: int, user_id: int) -> bool:
    return Call.objects.filter(
        Q(client_id=user_id) | Q(professional_id=user_id), pk=call_id
    ).exists()
