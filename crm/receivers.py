"""Listeners the CRM connects in CrmConfig.ready(): the inbox's and its own signals.

Each listener runs after the sender's transaction committed and does its work in its own
transaction or in a task.
"""

from __future__ import annotations

from typing import Any


def on_conversation_created(sender: Any, conversation_id: int, **kwargs: Any) -> None:
    from crm import support_link

    support_link.on_conversation_created(conversation_id)


def on_staff_message_sent(
    sender: Any, conversation_id: int, message_id: int, channel: str, **kwargs: Any
) -> None:
    from crm import botconversa

    botconversa.on_staff_message_sent(
        conversation_id=conversation_id, message_id=message_id, channel=channel
    )


def on_conversation_status_changed(
    sender: Any, conversation_id: int, status: str, channel: str, **kwargs: Any
) -> None:
    from crm import botconversa

    botconversa.on_conversation_status_changed(
        conversation_id=conversation_id, status=status, channel=channel
    )


def on_deal_stage_changed(
    sender: Any,
    deal_id: int,
    organization_id: int,
    from_stage_id: int | None,
    to_stage_id: int,
    version: int,
    **kwargs: Any,
) -> None:
    from crm import botconversa

    botconversa.on_deal_stage_changed(
        deal_id=deal_id,
        organization_id=organization_id,
        from_stage_id=from_stage_id,
        to_stage_id=to_stage_id,
        version=version,
    )


def register() -> None:
    from crm.signals import deal_stage_changed
    from queueing.signals import (
        conversation_created,
        conversation_status_changed,
        staff_message_sent,
    )

    conversation_created.connect(on_conversation_created, dispatch_uid="crm.conversation_created")
    staff_message_sent.connect(on_staff_message_sent, dispatch_uid="crm.staff_message_sent")
    conversation_status_changed.connect(
        on_conversation_status_changed, dispatch_uid="crm.conversation_status_changed"
    )
    deal_stage_changed.connect(on_deal_stage_changed, dispatch_uid="crm.deal_stage_changed")
