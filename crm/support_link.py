"""Support conversations and CRM contacts.

Every inbox contact (a widget visitor, a student, a WhatsApp number) is one CRM contact,
through ``SupportContactLink``: found by the link, else by the same platform account, email
or phone, else created. The link's one-to-one on the inbox contact settles a race between
two conversations starting at once: the loser's insert fails and it reads the winner's link.
From a conversation, staff see the CRM panel (contact, deals, other conversations), create a
deal in one click, or re-link the conversation's contact to another CRM contact.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm import access, contact_selectors
from crm.contacts import invalid_reference
from crm.models import ActivityKind, Contact, Deal, SupportContactLink
from crm.phones import normalize_phone_or_blank
from crm.timeline import activity_record
from queueing.models import Contact as SupportContact
from queueing.models import Conversation, ConversationChannel

SOURCE_SUPPORT = "support"
SOURCE_WHATSAPP = "whatsapp"


def _match(support_contact: SupportContact) -> Contact | None:
    """The organization's CRM contact (not merged) that is this person: the same platform
    account first, then the same email, then the same phone; the oldest on ties."""
    contacts = Contact.objects.filter(
        organization_id=support_contact.organization_id, merged_into=None
    ).order_by("pk")
    if support_contact.user_id is not None:
        found = contacts.filter(user_id=support_contact.user_id).first()
        if found is not None:
            return found
    if support_contact.email:
        found = contacts.filter(email__iexact=support_contact.email.strip()).first()
        if found is not None:
            return found
    phone = normalize_phone_or_blank(support_contact.phone)
    if phone:
        return contacts.filter(phone=phone).first()
    return None


def _source(support_contact: SupportContact, channel: str | None) -> str:
    if channel is None:
        channel = (
            support_contact.conversations.order_by("pk").values_list("channel", flat=True).first()
        )
    return SOURCE_WHATSAPP if channel == ConversationChannel.WHATSAPP else SOURCE_SUPPORT


def _new_contact(support_contact: SupportContact, channel: str | None) -> Contact:
    phone = normalize_phone_or_blank(support_contact.phone)
    user = support_contact.user
    name = (
        support_contact.name.strip()
        or (user.get_full_name() if user is not None else "")
        or support_contact.email
        or phone
        or _("Visitor")
    )
    contact = Contact.objects.create(
        organization_id=support_contact.organization_id,
        name=name[:150],
        email=support_contact.email.strip(),
        phone=phone,
        user_id=support_contact.user_id,
        source=_source(support_contact, channel),
    )
    activity_record(
        organization_id=contact.organization_id,
        kind=ActivityKind.CREATED,
        actor_id=None,
        contact_id=contact.pk,
        data={"support_contact_id": support_contact.pk},
    )
    return contact


def _linked(support_contact: SupportContact) -> Contact | None:
    link = (
        SupportContactLink.objects.filter(support_contact_id=support_contact.pk)
        .select_related("contact")
        .first()
    )
    return link.contact if link is not None else None


@transaction.atomic
def contact_for_support_contact(
    support_contact: SupportContact, *, create: bool = True, channel: str | None = None
) -> Contact | None:
    """The CRM contact of an inbox contact, linking (and creating) it when needed.

    By the existing link; else a CRM contact of the organization with the same account,
    email or phone (its empty account/phone filled in); else, with ``create``, a new one
    (source "whatsapp" for a WhatsApp conversation, "support" otherwise). Without ``create``
    an unlinked inbox contact with no match answers None and writes nothing.

    Concurrent callers: each inserts the link inside a savepoint; the one-to-one on the inbox
    contact lets one win, the others roll their savepoint back (with any contact they
    created) and return the winner's contact.
    """
    found = _linked(support_contact)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            contact = _match(support_contact)
            if contact is None:
                if not create:
                    return None
                contact = _new_contact(support_contact, channel)
            else:
                changed = []
                if contact.user_id is None and support_contact.user_id is not None:
                    contact.user_id = support_contact.user_id
                    changed.append("user")
                phone = normalize_phone_or_blank(support_contact.phone)
                if not contact.phone and phone:
                    contact.phone = phone
                    changed.append("phone")
                if changed:
                    contact.save(update_fields=[*changed, "updated_at"])
            SupportContactLink.objects.create(contact=contact, support_contact=support_contact)
    except IntegrityError:
        winner = _linked(support_contact)
        if winner is None:
            raise
        return winner
    return contact


def on_conversation_created(conversation_id: int) -> None:
    """Link the conversation's contact to a CRM contact and put the conversation on its
    timeline (runs after the inbox's commit; a second call adds nothing)."""
    conversation = Conversation.objects.filter(pk=conversation_id).select_related("contact").first()
    if conversation is None:
        return
    with transaction.atomic():
        contact = contact_for_support_contact(conversation.contact, channel=conversation.channel)
        assert contact is not None
        already = contact.activities.filter(
            kind=ActivityKind.CONVERSATION, conversation_id=conversation.pk, deal=None
        ).exists()
        if not already:
            activity_record(
                organization_id=contact.organization_id,
                kind=ActivityKind.CONVERSATION,
                actor_id=None,
                contact_id=contact.pk,
                conversation_id=conversation.pk,
                data={"event": "started"},
            )


def conversation_get(*, user: Any, organization_id: int, conversation_id: int) -> Conversation:
    """The organization's conversation if ``user`` sees it in the inbox; 404 ``crm.not_found``
    otherwise (another organization's answers the same)."""
    from queueing.inbox_access import can_see

    conversation = (
        Conversation.objects.filter(pk=conversation_id, organization_id=organization_id)
        .select_related("contact")
        .first()
    )
    if conversation is None or not can_see(user, conversation):
        raise access.not_found()
    return conversation


def conversation_panel(*, user: Any, conversation: Conversation) -> dict[str, Any]:
    """What the inbox shows beside a conversation: the CRM contact (linked now if it was not
    yet), its deals in pipelines ``user`` sees and its conversations ``user`` sees."""
    contact = contact_for_support_contact(conversation.contact, channel=conversation.channel)
    assert contact is not None
    contact = contact_selectors.contact_get(
        organization_id=contact.organization_id, contact_id=contact.pk
    )
    return {
        "contact": contact_selectors.contact_data(contact),
        "deals": contact_selectors.deal_cards(
            contact_selectors.visible_deals(user, contact.organization_id, contact=contact)
        ),
        "conversations": contact_selectors.contact_conversations(user, contact),
    }


def _channel_label(channel: str) -> str:
    try:
        return str(ConversationChannel(channel).label)
    except ValueError:
        return channel


@transaction.atomic
def deal_from_conversation(
    *,
    actor: Any,
    conversation: Conversation,
    pipeline_id: int,
    title: str | None = None,
    value: Any = 0,
) -> Deal:
    """Create a deal for the conversation's contact in one click.

    The title defaults to "<contact name> — <subject or channel>"; the actor owns it. The
    deal is made by ``crm.deals.deal_create`` (its events and errors); a CONVERSATION activity
    with the conversation goes on the deal and on the contact.

    Raises 403/404 (``crm.access``; a pipeline the actor does not see is 404).
    """
    from crm.deals import deal_create

    access.require_write(actor, conversation.organization_id)
    access.pipeline_for(actor, conversation.organization_id, pipeline_id)
    contact = contact_for_support_contact(conversation.contact, channel=conversation.channel)
    assert contact is not None
    default = f"{contact.name} — {conversation.subject or _channel_label(conversation.channel)}"
    deal = deal_create(
        actor=actor,
        organization_id=conversation.organization_id,
        pipeline_id=pipeline_id,
        title=((title or "").strip() or default)[:200],
        value=value,
        contact_id=contact.pk,
        company_id=contact.company_id,
        owner_id=actor.pk,
        # The deal's first line is the conversation it came from (instead of CREATED).
        source_activity={
            "kind": ActivityKind.CONVERSATION,
            "conversation_id": conversation.pk,
            "data": {"event": "deal_created", "contact_id": contact.pk},
        },
    )
    activity_record(
        organization_id=conversation.organization_id,
        kind=ActivityKind.CONVERSATION,
        actor_id=actor.pk,
        contact_id=contact.pk,
        conversation_id=conversation.pk,
        data={"event": "deal_created", "deal_id": deal.pk},
    )
    return deal


@transaction.atomic
def contact_relink(*, actor: Any, conversation: Conversation, contact_id: int) -> Contact:
    """Link the conversation's inbox contact (and so all its conversations) to another CRM
    contact of the organization; a CONVERSATION activity on the new contact says so (linking
    to the contact it already has changes nothing).

    Locks the link row. Raises 403/404 (``crm.access``), 422 ``crm.invalid_reference``
    (a contact of another organization, merged, or unknown).
    """
    access.require_write(actor, conversation.organization_id)
    contact = Contact.objects.filter(
        organization_id=conversation.organization_id, pk=contact_id, merged_into=None
    ).first()
    if contact is None:
        raise invalid_reference("contact_id")
    link = (
        SupportContactLink.objects.select_for_update()
        .filter(support_contact_id=conversation.contact_id)
        .first()
    )
    if link is None:
        try:
            with transaction.atomic():
                link = SupportContactLink.objects.create(
                    contact=contact, support_contact_id=conversation.contact_id
                )
                previous_id = None
        except IntegrityError:
            # Linked meanwhile (the conversation's own link landing): repoint that one.
            link = SupportContactLink.objects.select_for_update().get(
                support_contact_id=conversation.contact_id
            )
            previous_id = link.contact_id
    else:
        previous_id = link.contact_id
    if previous_id != contact.pk:
        if previous_id is not None:
            link.contact = contact
            link.save(update_fields=["contact"])
        activity_record(
            organization_id=contact.organization_id,
            kind=ActivityKind.CONVERSATION,
            actor_id=actor.pk,
            contact_id=contact.pk,
            conversation_id=conversation.pk,
            data={"event": "linked", "previous_contact_id": previous_id},
        )
    return contact
