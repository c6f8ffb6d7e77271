"""Listeners for other apps' signals; connected in ChatConfig.ready(). Each calls a service."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import membership_ended
from chat import services


@receiver(membership_ended, dispatch_uid="chat.membership_ended")
def on_membership_ended(sender: Any, organization_id: int, user_id: int, **kwargs: Any) -> None:
    # Someone who leaves an organization keeps no seat in its rooms: private rooms and DMs
    # would otherwise still list them as members and stream them messages.
    services.room_memberships_end(user_id=user_id, organization_id=organization_id)
