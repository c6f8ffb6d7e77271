"""Reads of contacts, companies and leads: lists (a constant number of queries whatever the
page size), their payloads and a contact's whole picture (deals, conversations, calls).

Merged records are never listed. Deals show only in pipelines the reader sees; support
conversations only those the reader sees in the inbox.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from crm import access
from crm.board import card_queryset, iso, label_data, user_ref
from crm.contacts import duplicates_of
from crm.models import Company, Contact, Deal, Lead

# Longest lists a contact's page shows inline (the rest is one click away in their screens).
DETAIL_LIMIT = 50
PHONE_DIGITS = re.compile(r"\D+")


def _labels(record: Contact | Company | Lead) -> list[dict[str, Any]]:
    return [label_data(label) for label in record.labels.all()]


# --- Lists -----------------------------------------------------------------------------------


def _search(queryset: QuerySet[Any], q: str) -> QuerySet[Any]:
    """Name, email or phone containing ``q``; a phone typed with punctuation matches too."""
    q = q.strip()
    if not q:
        return queryset
    condition = Q(name__icontains=q) | Q(email__icontains=q)
    digits = PHONE_DIGITS.sub("", q)
    if len(digits) >= 3:
        condition |= Q(phone__contains=digits)
    return queryset.filter(condition)


def _filtered(
    entity: str,
    queryset: QuerySet[Any],
    query: Mapping[str, Any],
    organization_id: int,
    user: Any,
) -> QuerySet[Any]:
    """The list's filters: ``q`` here (name, email, phone), the rest through
    ``crm.filtering`` (owner, label, source, created range, lead status)."""
    from crm import filtering

    filters = dict(filtering.filters_from_query(entity, query, user=user))
    queryset = _search(queryset, str(filters.pop("q", "") or ""))
    return filtering.apply_filters(
        entity, queryset, filters, organization_id=organization_id, user=user
    )


def contacts_list(
    *, user: Any, organization_id: int, query: Mapping[str, Any]
) -> QuerySet[Contact]:
    """The organization's contacts (not merged) by name, filtered by ``query`` (the request's
    parameters); rows carry what ``contact_data`` reads (three queries a page)."""
    contacts = (
        Contact.objects.filter(organization_id=organization_id, merged_into=None)
        .select_related("company", "owner")
        .prefetch_related("labels")
        .order_by("name", "id")
    )
    return _filtered("contacts", contacts, query, organization_id, user)


def companies_list(
    *, user: Any, organization_id: int, query: Mapping[str, Any]
) -> QuerySet[Company]:
    """The organization's companies by name, with their contact counts."""
    companies = (
        Company.objects.filter(organization_id=organization_id)
        .select_related("owner")
        .prefetch_related("labels")
        .annotate(
            contact_count=Count("contacts", filter=Q(contacts__merged_into=None), distinct=True)
        )
        .order_by("name", "id")
    )
    return _filtered("companies", companies, query, organization_id, user)


def leads_list(*, user: Any, organization_id: int, query: Mapping[str, Any]) -> QuerySet[Lead]:
    """The organization's leads (not merged), newest first."""
    leads = (
        Lead.objects.filter(organization_id=organization_id, merged_into=None)
        .select_related("owner")
        .prefetch_related("labels")
        .order_by("-created_at", "-id")
    )
    return _filtered("leads", leads, query, organization_id, user)


# --- Lookups ---------------------------------------------------------------------------------


def contact_get(*, organization_id: int, contact_id: int) -> Contact:
    """The organization's contact (not merged); 404 ``crm.not_found`` otherwise."""
    contact = (
        Contact.objects.filter(organization_id=organization_id, pk=contact_id, merged_into=None)
        .select_related("company", "owner")
        .prefetch_related("labels")
        .first()
    )
    if contact is None:
        raise access.not_found()
    return contact


def company_get(*, organization_id: int, company_id: int) -> Company:
    company = (
        Company.objects.filter(organization_id=organization_id, pk=company_id)
        .select_related("owner")
        .prefetch_related("labels")
        .annotate(
            contact_count=Count("contacts", filter=Q(contacts__merged_into=None), distinct=True)
        )
        .first()
    )
    if company is None:
        raise access.not_found()
    return company


def lead_get(*, organization_id: int, lead_id: int) -> Lead:
    lead = (
        Lead.objects.filter(organization_id=organization_id, pk=lead_id, merged_into=None)
        .select_related("owner")
        .prefetch_related("labels")
        .first()
    )
    if lead is None:
        raise access.not_found()
    return lead


# --- Payloads --------------------------------------------------------------------------------


def contact_data(contact: Contact) -> dict[str, Any]:
    """ContactData (needs ``company``, ``owner`` and ``labels`` loaded for a list)."""
    company = contact.company
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "job_title": contact.job_title,
        "company": {"id": company.pk, "name": company.name} if company else None,
        "owner": user_ref(contact.owner),
        "source": contact.source,
        "notes": contact.notes,
        "labels": _labels(contact),
        "user_id": contact.user_id,
        "created_at": iso(contact.created_at),
        "updated_at": iso(contact.updated_at),
    }


def company_data(company: Company) -> dict[str, Any]:
    """CompanyData (``contact_count`` annotated by the lists, counted otherwise)."""
    count = getattr(company, "contact_count", None)
    if count is None:
        count = company.contacts.filter(merged_into=None).count()
    return {
        "id": company.pk,
        "name": company.name,
        "domain": company.domain,
        "phone": company.phone,
        "tax_id": company.tax_id,
        "address": company.address,
        "owner": user_ref(company.owner),
        "source": company.source,
        "notes": company.notes,
        "labels": _labels(company),
        "contact_count": count,
        "created_at": iso(company.created_at),
        "updated_at": iso(company.updated_at),
    }


def lead_data(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company_name": lead.company_name,
        "source": lead.source,
        "status": lead.status,
        "owner": user_ref(lead.owner),
        "notes": lead.notes,
        "labels": _labels(lead),
        "converted_contact_id": lead.converted_contact_id,
        "converted_deal_id": lead.converted_deal_id,
        "converted_at": iso(lead.converted_at),
        "created_at": iso(lead.created_at),
    }


def brief(record: Contact | Lead) -> dict[str, Any]:
    return {"id": record.pk, "name": record.name, "email": record.email, "phone": record.phone}


# --- A contact's picture ---------------------------------------------------------------------


def visible_deals(user: Any, organization_id: int, **where: Any) -> QuerySet[Deal]:
    """Deals in pipelines ``user`` sees, loaded for ``deal_card``, most recently changed first."""
    return card_queryset(
        access.deals_visible(user, organization_id).filter(**where).order_by("-updated_at", "-id")
    )


def deal_cards(deals: QuerySet[Deal]) -> list[dict[str, Any]]:
    from crm.board import deal_card

    return [deal_card(deal) for deal in deals[:DETAIL_LIMIT]]


def contact_conversations(user: Any, contact: Contact) -> list[dict[str, Any]]:
    """Support conversations of every inbox contact linked to ``contact`` that ``user`` sees
    in the inbox, latest activity first."""
    from queueing.inbox_access import conversations_visible

    conversations = (
        conversations_visible(user, contact.organization_id)
        .filter(contact__crm_link__contact_id=contact.pk)
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )
    return [
        {
            "id": conversation.pk,
            "subject": conversation.subject,
            "channel": conversation.channel,
            "status": conversation.status,
            "last_message_at": iso(conversation.last_message_at),
        }
        for conversation in conversations[:DETAIL_LIMIT]
    ]


def contact_calls(contact: Contact) -> list[dict[str, Any]]:
    """Calls where the contact's platform account was the client or the professional."""
    if contact.user_id is None:
        return []
    from calls.history import duration_seconds
    from calls.models import Call

    calls = Call.objects.filter(
        Q(client_id=contact.user_id) | Q(professional_id=contact.user_id)
    ).order_by("-requested_at", "-id")
    return [
        {
            "id": call.pk,
            "status": call.status,
            "started_at": iso(call.requested_at),
            "ended_at": iso(call.ended_at),
            "duration_seconds": duration_seconds(call),
        }
        for call in calls[:DETAIL_LIMIT]
    ]


def contact_detail(user: Any, contact: Contact) -> dict[str, Any]:
    """ContactData + its deals (visible pipelines), support conversations, calls and
    possible duplicates (same email or phone)."""
    return {
        **contact_data(contact),
        "deals": deal_cards(visible_deals(user, contact.organization_id, contact=contact)),
        "conversations": contact_conversations(user, contact),
        "calls": contact_calls(contact),
        "duplicates": [
            brief(other)
            for other in duplicates_of(
                organization_id=contact.organization_id,
                email=contact.email,
                phone=contact.phone,
                exclude_id=contact.pk,
            )
        ],
    }


def company_detail(user: Any, company: Company) -> dict[str, Any]:
    """CompanyData + its contacts and its deals (visible pipelines)."""
    contacts = company.contacts.filter(merged_into=None).order_by("name", "id")[:DETAIL_LIMIT]
    return {
        **company_data(company),
        "contacts": [brief(contact) for contact in contacts],
        "deals": deal_cards(visible_deals(user, company.organization_id, company=company)),
    }


def lead_detail(lead: Lead) -> dict[str, Any]:
    """LeadData + possible duplicates among leads and contacts."""
    from crm.contacts import lead_duplicates_of

    return {
        **lead_data(lead),
        "duplicates": [
            brief(other)
            for other in lead_duplicates_of(
                organization_id=lead.organization_id,
                email=lead.email,
                phone=lead.phone,
                exclude_id=lead.pk,
            )
        ],
        "contact_duplicates": [
            brief(other)
            for other in duplicates_of(
                organization_id=lead.organization_id, email=lead.email, phone=lead.phone
            )
        ],
    }


def merge_sources(
    model: type[Contact] | type[Lead], organization_id: int, ids: list[int]
) -> list[Any]:
    """The organization's contacts (or leads) with these ids, for a merge; 404
    ``crm.not_found`` when any is missing or another organization's."""
    wanted = set(ids)
    found = list(model.objects.filter(organization_id=organization_id, pk__in=wanted))
    if len(found) != len(wanted):
        raise access.not_found()
    return found
