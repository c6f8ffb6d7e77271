"""Notes: free text a person writes on a deal's, contact's or lead's timeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import status as http

from core.exceptions import ApplicationError
from crm import access
from crm.models import Activity, ActivityKind, Contact, Deal, Lead
from crm.timeline import activity_record

MAX_NOTE_LENGTH = 5000


@transaction.atomic
def note_add(
    *,
    actor: Any,
    deal: Deal | None = None,
    contact: Contact | None = None,
    lead: Lead | None = None,
    body: str,
) -> Activity:
    """Add a note to exactly one of a deal, a contact or a lead (agents and admins).

    The body keeps its line breaks; surrounding blanks go. A note changes nothing on the
    deal's card, so no board event goes out. Raises 403/404 (``crm.permission_denied``,
    ``crm.not_found``) and 422 ``crm.invalid_note`` for an empty or too long body.
    """
    subjects = [item for item in (deal, contact, lead) if item is not None]
    if len(subjects) != 1:
        raise TypeError("note_add takes exactly one of deal, contact or lead")
    organization_id = subjects[0].organization_id
    access.require_write(actor, organization_id)
    text = body.strip() if isinstance(body, str) else ""
    if not 1 <= len(text) <= MAX_NOTE_LENGTH:
        raise ApplicationError(
            _("A note has from 1 to %(count)d characters.") % {"count": MAX_NOTE_LENGTH},
            code="crm.invalid_note",
            extra={"field": "body", "max_length": MAX_NOTE_LENGTH},
            status_code=http.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    activity = activity_record(
        organization_id=organization_id,
        kind=ActivityKind.NOTE,
        actor_id=actor.pk,
        deal_id=deal.pk if deal is not None else None,
        contact_id=contact.pk if contact is not None else None,
        lead_id=lead.pk if lead is not None else None,
        body=text,
    )
    activity.actor = actor
    return activity
