"""Reading timelines: a deal's, a contact's or a lead's activities, newest first."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import QuerySet

from crm.board import iso, user_ref
from crm.models import Activity, Contact, Deal, Lead


class ConversationRef(TypedDict):
    id: int
    subject: str
    channel: str
    status: str


class CallRef(TypedDict):
    id: int
    status: str


class TaskRef(TypedDict):
    id: int
    title: str
    due_at: str | None
    done_at: str | None


class ActivityData(TypedDict):
    id: int
    kind: str
    actor: dict[str, Any] | None
    body: str
    data: dict[str, Any]
    created_at: str | None
    deal_id: int | None
    contact_id: int | None
    lead_id: int | None
    conversation: ConversationRef | None
    call: CallRef | None
    task: TaskRef | None


def activity_data(activity: Activity) -> ActivityData:
    """One timeline line (select_related actor, conversation, call and task: see
    ``timeline``)."""
    conversation = activity.conversation
    call = activity.call
    task = activity.task
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "actor": user_ref(activity.actor),
        "body": activity.body,
        "data": activity.data,
        "created_at": iso(activity.created_at),
        "deal_id": activity.deal_id,
        "contact_id": activity.contact_id,
        "lead_id": activity.lead_id,
        "conversation": {
            "id": conversation.pk,
            "subject": conversation.subject,
            "channel": conversation.channel,
            "status": conversation.status,
        }
        if conversation is not None
        else None,
        "call": {"id": call.pk, "status": call.status} if call is not None else None,
        "task": {
            "id": task.pk,
            "title": task.title,
            "due_at": iso(task.due_at),
            "done_at": iso(task.done_at),
        }
        if task is not None
        else None,
    }


def timeline(
    *, deal: Deal | None = None, contact: Contact | None = None, lead: Lead | None = None
) -> QuerySet[Activity]:
    """The activities of exactly one deal, contact or lead, newest first (the id breaks
    ties), with everything ``activity_data`` reads: one query per page."""
    subjects = {"deal": deal, "contact": contact, "lead": lead}
    given = {key: value for key, value in subjects.items() if value is not None}
    if len(given) != 1:
        raise TypeError("timeline takes exactly one of deal, contact or lead")
    return (
        Activity.objects.filter(**given)
        .select_related("actor", "conversation", "call", "task")
        .order_by("-created_at", "-id")
    )
