"""Contacts, companies and leads: every write, merges and lead conversion.

Contacts, companies and leads are organization-wide (no per-pipeline rules): members read,
agents and admins write (``Capability.CRM_WRITE``), deleting is for org admins or the record's
owner, merging for org admins (``Capability.CRM_MANAGE``). Phones are stored in E.164
(``crm.phones``), emails as typed but compared without case. A merged record keeps
``merged_into`` and leaves every list; lookups treat it as gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from core.exceptions import ApplicationError, ConflictError
from crm import access, events
from crm.models import (
    Activity,
    ActivityKind,
    BotConversaSubscriber,
    Company,
    Contact,
    Deal,
    Label,
    Lead,
    LeadStatus,
    Pipeline,
    SupportContactLink,
    Task,
)
from crm.phones import normalize_phone, normalize_phone_or_blank
from crm.timeline import activity_record

# Fields a merge copies from a source when the target's is empty, in this order.
CONTACT_FILL_FIELDS = ("email", "phone", "job_title", "company_id", "owner_id", "user_id", "source")
LEAD_FILL_FIELDS = ("email", "phone", "company_name", "owner_id", "source")


class CrmInvalidError(ApplicationError):
    status_code = 422


def invalid(code: str, message: str, **extra: Any) -> CrmInvalidError:
    return CrmInvalidError(message, code=code, extra=extra)


def invalid_reference(field: str) -> CrmInvalidError:
    return invalid("crm.invalid_reference", _("This record does not exist."), field=field)


def lead_converted() -> ConflictError:
    return ConflictError(_("This lead was already converted."), code="crm.lead_converted")


# --- Cleaning --------------------------------------------------------------------------------


def clean_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise invalid("crm.invalid_name", _("Enter a name."), field="name")
    return name


def clean_email(value: Any) -> str:
    email = str(value or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise invalid("crm.invalid_email", _("Enter a valid email address.")) from None
    return email


def _owner_id(organization_id: int, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    if not Membership.objects.filter(
        organization_id=organization_id, user_id=owner_id, role__in=access.STAFF_ROLES
    ).exists():
        raise invalid_reference("owner_id")
    return owner_id


def _company_id(organization_id: int, company_id: int | None) -> int | None:
    if company_id is None:
        return None
    if not Company.objects.filter(organization_id=organization_id, pk=company_id).exists():
        raise invalid_reference("company_id")
    return company_id


def clean_labels(organization_id: int, label_ids: Iterable[int]) -> list[Label]:
    """The organization's labels with these ids; 422 ``crm.invalid_reference`` otherwise."""
    wanted = set(label_ids)
    labels = list(Label.objects.filter(organization_id=organization_id, pk__in=wanted))
    if len(labels) != len(wanted):
        raise invalid_reference("label_ids")
    return labels


def _clean(organization_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Cleaned values of the fields given (only those): names, emails, phones, references."""
    cleaned = dict(fields)
    if "name" in cleaned:
        cleaned["name"] = clean_name(cleaned["name"])
    if "email" in cleaned:
        cleaned["email"] = clean_email(cleaned["email"])
    if "phone" in cleaned:
        cleaned["phone"] = normalize_phone(cleaned["phone"])
    if "owner_id" in cleaned:
        cleaned["owner_id"] = _owner_id(organization_id, cleaned["owner_id"])
    if "company_id" in cleaned:
        cleaned["company_id"] = _company_id(organization_id, cleaned["company_id"])
    for key in ("job_title", "source", "notes", "domain", "tax_id", "address", "company_name"):
        if key in cleaned:
            cleaned[key] = str(cleaned[key] or "").strip()
    return cleaned


def _label_ids(record: Contact | Company | Lead) -> list[int]:
    return sorted(record.labels.values_list("pk", flat=True))


def _apply(
    record: Contact | Company | Lead, cleaned: dict[str, Any], allowed: Sequence[str]
) -> dict[str, list[Any]]:
    """Set the changed fields on ``record``; the changes as {field: [old, new]}."""
    changes: dict[str, list[Any]] = {}
    for key, value in cleaned.items():
        if key not in allowed:
            raise TypeError(f"unexpected field {key!r}")
        if key == "label_ids":
            continue
        old = getattr(record, key)
        if old != value:
            changes[key] = [old, value]
            setattr(record, key, value)
    return changes


def _set_labels(
    record: Contact | Company | Lead, labels: list[Label] | None, changes: dict[str, list[Any]]
) -> None:
    if labels is None:
        return
    old = _label_ids(record)
    new = sorted(label.pk for label in labels)
    if old != new:
        record.labels.set(labels)
        changes["label_ids"] = [old, new]


def _may_delete(actor: Any, record: Contact | Company | Lead) -> None:
    access.require_write(actor, record.organization_id)
    if record.owner_id != actor.pk and not access.can_manage(actor, record.organization_id):
        raise access.permission_denied()


# --- Contacts --------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "job_title",
    "company_id",
    "owner_id",
    "source",
    "notes",
    "label_ids",
)


@transaction.atomic
def contact_create(
    *,
    actor: Any,
    organization_id: int,
    name: str,
    email: str = "",
    phone: str = "",
    job_title: str = "",
    company_id: int | None = None,
    owner_id: int | None = None,
    source: str = "",
    notes: str = "",
    label_ids: Iterable[int] = (),
) -> Contact:
    """Create a contact and its CREATED activity.

    Raises 403/404 (``crm.access``), 422 ``crm.invalid_name``, ``crm.invalid_email``,
    ``crm.invalid_phone``, ``crm.invalid_reference`` (company, owner, labels of another
    organization).
    """
    access.require_write(actor, organization_id)
    cleaned = _clean(
        organization_id,
        {
            "name": name,
            "email": email,
            "phone": phone,
            "job_title": job_title,
            "company_id": company_id,
            "owner_id": owner_id,
            "source": source,
            "notes": notes,
        },
    )
    labels = clean_labels(organization_id, label_ids)
    contact = Contact.objects.create(
        organization_id=organization_id, created_by_id=actor.pk, **cleaned
    )
    contact.labels.set(labels)
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.CREATED,
        actor_id=actor.pk,
        contact_id=contact.pk,
    )
    return contact


def _save_changes(
    actor: Any,
    locked: Contact | Lead,
    cleaned: dict[str, Any],
    fields: Sequence[str],
    *,
    subject: str,
) -> None:
    """Apply cleaned fields and labels to a locked contact or lead; when anything changed,
    save it and record FIELD_CHANGE {"changes": {field: [old, new]}} on its timeline."""
    labels = (
        clean_labels(locked.organization_id, cleaned["label_ids"])
        if cleaned.get("label_ids") is not None
        else None
    )
    changes = _apply(locked, cleaned, fields)
    _set_labels(locked, labels, changes)
    if changes:
        locked.save()
        activity_record(
            organization_id=locked.organization_id,
            kind=ActivityKind.FIELD_CHANGE,
            actor_id=actor.pk,
            contact_id=locked.pk if subject == "contact_id" else None,
            lead_id=locked.pk if subject == "lead_id" else None,
            data={"changes": changes},
        )


@transaction.atomic
def contact_update(*, actor: Any, contact: Contact, **fields: Any) -> Contact:
    """Change some of ``CONTACT_FIELDS``; a FIELD_CHANGE activity lists what changed.

    Locks the contact row. A merged contact is gone (404). Errors as ``contact_create``.
    """
    access.require_write(actor, contact.organization_id)
    locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None or locked.merged_into_id is not None:
        raise access.not_found()
    cleaned = _clean(locked.organization_id, fields)
    _save_changes(actor, locked, cleaned, CONTACT_FIELDS, subject="contact_id")
    return locked


@transaction.atomic
def contact_delete(*, actor: Any, contact: Contact) -> None:
    """Delete a contact (org admins or its owner): its deals stay, without a contact; its
    tasks, timeline and support links go (the next conversation links afresh)."""
    _may_delete(actor, contact)
    Contact.objects.filter(pk=contact.pk).delete()


def duplicates_of(
    *, organization_id: int, email: str = "", phone: str = "", exclude_id: int | None = None
) -> list[Contact]:
    """The organization's contacts (not merged) with this email (any case) or phone, by id.

    The phone is normalized first; junk matches nothing.
    """
    email = (email or "").strip()
    normalized = normalize_phone_or_blank(phone)
    condition = Q()
    if email:
        condition |= Q(email__iexact=email)
    if normalized:
        condition |= Q(phone=normalized)
    if not condition:
        return []
    found = Contact.objects.filter(condition, organization_id=organization_id, merged_into=None)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return list(found.order_by("pk"))


def _merge_candidates(
    model: type[Contact] | type[Lead], target: Contact | Lead, sources: Iterable[Contact | Lead]
) -> tuple[Any, list[Any]]:
    """Lock the target and the sources in id order (two merges touching the same rows
    never deadlock) and check them again on the locked rows."""
    source_ids = sorted({source.pk for source in sources})
    if not source_ids or target.pk in source_ids:
        raise invalid("crm.invalid_merge", _("Choose other records to merge into this one."))
    locked = {
        row.pk: row
        for row in model.objects.select_for_update()  # type: ignore[attr-defined]
        .filter(pk__in=[target.pk, *source_ids], organization_id=target.organization_id)
        .order_by("pk")
    }
    if len(locked) != len(source_ids) + 1 or any(
        row.merged_into_id is not None for row in locked.values()
    ):
        raise access.not_found()
    return locked[target.pk], [locked[pk] for pk in source_ids]


def _fill_empty(target: Contact | Lead, sources: list[Any], fields: Sequence[str]) -> list[str]:
    filled = []
    for field in fields:
        if getattr(target, field) in ("", None):
            for source in sources:
                value = getattr(source, field)
                if value not in ("", None):
                    setattr(target, field, value)
                    filled.append(field)
                    break
    return filled


def _brief(record: Contact | Lead) -> dict[str, Any]:
    return {"id": record.pk, "name": record.name, "email": record.email, "phone": record.phone}


@transaction.atomic
def contact_merge(*, actor: Any, target: Contact, sources: Iterable[Contact]) -> Contact:
    """Merge ``sources`` into ``target`` (org admins).

    Locks every contact in id order. Moves the sources' deals (their version grows, so a
    client holding an old card refetches it), tasks, timeline, support links, BotConversa
    subscribers, labels and converted leads to the target; fills the target's empty fields
    from the sources (lowest id first); sets ``merged_into`` on the sources (and on contacts
    merged into them before); records a MERGE activity on the target.

    Raises 403/404 (``crm.access``; a source of another organization or already merged is
    404), 422 ``crm.invalid_merge`` (no sources, or the target among them).
    """
    access.require_manage(actor, target.organization_id)
    locked, merged = _merge_candidates(Contact, target, sources)
    source_ids = [source.pk for source in merged]
    moved_deal_ids = list(
        Deal.objects.filter(contact_id__in=source_ids).order_by("pk").values_list("pk", flat=True)
    )
    Deal.objects.filter(pk__in=moved_deal_ids).update(
        contact_id=locked.pk, version=F("version") + 1, updated_at=timezone.now()
    )
    # Open boards show the kept contact on those cards (each event carries the new version).
    for deal_id in moved_deal_ids:
        events.deal_updated(deal_id)
    Task.objects.filter(contact_id__in=source_ids).update(contact_id=locked.pk)
    Activity.objects.filter(contact_id__in=source_ids).update(contact_id=locked.pk)
    SupportContactLink.objects.filter(contact_id__in=source_ids).update(contact_id=locked.pk)
    BotConversaSubscriber.objects.filter(contact_id__in=source_ids).update(contact_id=locked.pk)
    Lead.objects.filter(converted_contact_id__in=source_ids).update(converted_contact_id=locked.pk)
    Contact.objects.filter(merged_into_id__in=source_ids).update(merged_into_id=locked.pk)
    labels = Label.objects.filter(contacts__in=source_ids).distinct()
    locked.labels.add(*labels)
    for source in merged:
        source.labels.clear()
    filled = _fill_empty(locked, merged, CONTACT_FILL_FIELDS)
    locked.save()
    Contact.objects.filter(pk__in=source_ids).update(
        merged_into_id=locked.pk, updated_at=timezone.now()
    )
    activity_record(
        organization_id=locked.organization_id,
        kind=ActivityKind.MERGE,
        actor_id=actor.pk,
        contact_id=locked.pk,
        data={"merged": [_brief(source) for source in merged], "filled": filled},
    )
    return locked


# --- Companies -------------------------------------------------------------------------------

COMPANY_FIELDS = (
    "name",
    "domain",
    "phone",
    "tax_id",
    "address",
    "owner_id",
    "source",
    "notes",
    "label_ids",
)


@transaction.atomic
def company_create(
    *,
    actor: Any,
    organization_id: int,
    name: str,
    domain: str = "",
    phone: str = "",
    tax_id: str = "",
    address: str = "",
    owner_id: int | None = None,
    source: str = "",
    notes: str = "",
    label_ids: Iterable[int] = (),
) -> Company:
    """Create a company. Errors as ``contact_create``."""
    access.require_write(actor, organization_id)
    cleaned = _clean(
        organization_id,
        {
            "name": name,
            "domain": domain,
            "phone": phone,
            "tax_id": tax_id,
            "address": address,
            "owner_id": owner_id,
            "source": source,
            "notes": notes,
        },
    )
    labels = clean_labels(organization_id, label_ids)
    company = Company.objects.create(organization_id=organization_id, **cleaned)
    company.labels.set(labels)
    return company


@transaction.atomic
def company_update(*, actor: Any, company: Company, **fields: Any) -> Company:
    """Change some of ``COMPANY_FIELDS`` (locks the row). Errors as ``contact_create``."""
    access.require_write(actor, company.organization_id)
    locked = Company.objects.select_for_update().filter(pk=company.pk).first()
    if locked is None:
        raise access.not_found()
    cleaned = _clean(locked.organization_id, fields)
    labels = (
        clean_labels(locked.organization_id, cleaned["label_ids"])
        if cleaned.get("label_ids") is not None
        else None
    )
    changes = _apply(locked, cleaned, COMPANY_FIELDS)
    _set_labels(locked, labels, changes)
    if changes:
        locked.save()
    return locked


@transaction.atomic
def company_delete(*, actor: Any, company: Company) -> None:
    """Delete a company (org admins or its owner); its contacts and deals stay without it."""
    _may_delete(actor, company)
    Company.objects.filter(pk=company.pk).delete()


# --- Leads -----------------------------------------------------------------------------------

LEAD_FIELDS = (
    "name",
    "email",
    "phone",
    "company_name",
    "source",
    "status",
    "owner_id",
    "notes",
    "label_ids",
)


def _clean_status(value: Any) -> str:
    # "converted" is reached only by converting: it always comes with a contact and a deal.
    if value not in LeadStatus.values or value == LeadStatus.CONVERTED:
        raise invalid("crm.invalid_status", _("Choose a valid status."), field="status")
    return str(value)


@transaction.atomic
def lead_create(
    *,
    actor: Any,
    organization_id: int,
    name: str,
    email: str = "",
    phone: str = "",
    company_name: str = "",
    source: str = "",
    status: str = LeadStatus.NEW,
    owner_id: int | None = None,
    notes: str = "",
    label_ids: Iterable[int] = (),
) -> Lead:
    """Create a lead and its CREATED activity. Errors as ``contact_create``, plus 422
    ``crm.invalid_status``."""
    access.require_write(actor, organization_id)
    cleaned = _clean(
        organization_id,
        {
            "name": name,
            "email": email,
            "phone": phone,
            "company_name": company_name,
            "source": source,
            "owner_id": owner_id,
            "notes": notes,
        },
    )
    labels = clean_labels(organization_id, label_ids)
    lead = Lead.objects.create(
        organization_id=organization_id,
        created_by_id=actor.pk,
        status=_clean_status(status),
        **cleaned,
    )
    lead.labels.set(labels)
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.CREATED,
        actor_id=actor.pk,
        lead_id=lead.pk,
    )
    return lead


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, **fields: Any) -> Lead:
    """Change some of ``LEAD_FIELDS`` (locks the row); FIELD_CHANGE activity. A converted
    lead keeps its status (409 ``crm.lead_converted`` when asked to change it)."""
    access.require_write(actor, lead.organization_id)
    locked = Lead.objects.select_for_update().filter(pk=lead.pk).first()
    if locked is None or locked.merged_into_id is not None:
        raise access.not_found()
    cleaned = _clean(locked.organization_id, fields)
    if "status" in cleaned:
        if locked.status == LeadStatus.CONVERTED and cleaned["status"] != LeadStatus.CONVERTED:
            raise lead_converted()
        if cleaned["status"] == locked.status:
            del cleaned["status"]
        else:
            cleaned["status"] = _clean_status(cleaned["status"])
    _save_changes(actor, locked, cleaned, LEAD_FIELDS, subject="lead_id")
    return locked


@transaction.atomic
def lead_delete(*, actor: Any, lead: Lead) -> None:
    """Delete a lead (org admins or its owner); a contact or deal made from it stays."""
    _may_delete(actor, lead)
    Lead.objects.filter(pk=lead.pk).delete()


def lead_duplicates_of(
    *, organization_id: int, email: str = "", phone: str = "", exclude_id: int | None = None
) -> list[Lead]:
    """The organization's leads (not merged) with this email (any case) or phone, by id."""
    email = (email or "").strip()
    normalized = normalize_phone_or_blank(phone)
    condition = Q()
    if email:
        condition |= Q(email__iexact=email)
    if normalized:
        condition |= Q(phone=normalized)
    if not condition:
        return []
    found = Lead.objects.filter(condition, organization_id=organization_id, merged_into=None)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return list(found.order_by("pk"))


@transaction.atomic
def lead_merge(*, actor: Any, target: Lead, sources: Iterable[Lead]) -> Lead:
    """Merge ``sources`` into ``target`` (org admins), as ``contact_merge`` does for contacts:
    tasks, timeline and labels move, empty fields are filled, sources get ``merged_into``, a
    MERGE activity is recorded. A converted source is refused (409 ``crm.lead_converted``):
    its contact and deal already say where it went."""
    access.require_manage(actor, target.organization_id)
    locked, merged = _merge_candidates(Lead, target, sources)
    if any(source.status == LeadStatus.CONVERTED for source in merged):
        raise lead_converted()
    source_ids = [source.pk for source in merged]
    Task.objects.filter(lead_id__in=source_ids).update(lead_id=locked.pk)
    Activity.objects.filter(lead_id__in=source_ids).update(lead_id=locked.pk)
    Lead.objects.filter(merged_into_id__in=source_ids).update(merged_into_id=locked.pk)
    locked.labels.add(*Label.objects.filter(leads__in=source_ids).distinct())
    for source in merged:
        source.labels.clear()
    filled = _fill_empty(locked, merged, LEAD_FILL_FIELDS)
    locked.save()
    Lead.objects.filter(pk__in=source_ids).update(
        merged_into_id=locked.pk, updated_at=timezone.now()
    )
    activity_record(
        organization_id=locked.organization_id,
        kind=ActivityKind.MERGE,
        actor_id=actor.pk,
        lead_id=locked.pk,
        data={"merged": [_brief(source) for source in merged], "filled": filled},
    )
    return locked


def _company_for_lead(lead: Lead) -> int | None:
    if not lead.company_name:
        return None
    found = (
        Company.objects.filter(organization_id=lead.organization_id, name__iexact=lead.company_name)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    return Company.objects.create(
        organization_id=lead.organization_id,
        name=lead.company_name,
        owner_id=lead.owner_id,
        source=lead.source,
    ).pk


@transaction.atomic
def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    pipeline_id: int,
    stage_id: int | None = None,
    deal_title: str | None = None,
    value: Any = 0,
    contact_id: int | None = None,
) -> tuple[Contact, Deal]:
    """Convert a lead into a contact and a deal.

    The contact is ``contact_id`` if given, else the first contact with the lead's email or
    phone (its empty fields filled from the lead), else a new one (with the lead's company,
    found by name or created). The deal is made by ``crm.deals.deal_create`` in the pipeline
    (title: ``deal_title`` or the lead's name). The lead becomes ``converted``; CONVERSION
    activities go on the lead, the contact and the deal. Locks the lead row. ``actor`` None is
    the system (a BotConversa tag): no permission check, the pipeline must be the lead's
    organization's.

    Raises 403/404 (``crm.access``; a pipeline the actor does not see is 404), 409
    ``crm.lead_converted``, 422 ``crm.invalid_reference`` (contact), and ``deal_create``'s
    errors (stage, value).
    """
    from crm.deals import deal_create

    organization_id = lead.organization_id
    if actor is not None:
        access.require_write(actor, organization_id)
        access.pipeline_for(actor, organization_id, pipeline_id)
    elif not Pipeline.objects.filter(organization_id=organization_id, pk=pipeline_id).exists():
        raise access.not_found()
    actor_id = actor.pk if actor is not None else None
    locked = Lead.objects.select_for_update().filter(pk=lead.pk).first()
    if locked is None or locked.merged_into_id is not None:
        raise access.not_found()
    if locked.status == LeadStatus.CONVERTED:
        raise lead_converted()
    if contact_id is not None:
        contact = Contact.objects.filter(
            organization_id=organization_id, pk=contact_id, merged_into=None
        ).first()
        if contact is None:
            raise invalid_reference("contact_id")
    else:
        found = duplicates_of(
            organization_id=organization_id, email=locked.email, phone=locked.phone
        )
        contact = found[0] if found else None
    labels = list(locked.labels.all())
    if contact is None:
        contact = Contact.objects.create(
            organization_id=organization_id,
            name=locked.name,
            email=locked.email,
            phone=locked.phone,
            company_id=_company_for_lead(locked),
            owner_id=locked.owner_id,
            source=locked.source,
            notes=locked.notes,
            created_by_id=actor_id,
        )
        activity_record(
            organization_id=organization_id,
            kind=ActivityKind.CREATED,
            actor_id=actor_id,
            contact_id=contact.pk,
        )
    else:
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if _fill_empty(contact, [locked], ("email", "phone", "owner_id", "source")):
            contact.save()
    contact.labels.add(*labels)
    deal = deal_create(
        actor=actor,
        organization_id=organization_id,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        title=(deal_title or "").strip() or locked.name,
        value=value,
        contact_id=contact.pk,
        company_id=contact.company_id,
        owner_id=locked.owner_id,
        label_ids=[label.pk for label in labels],
        # The deal's first line says where it came from (instead of CREATED).
        source_activity={
            "kind": ActivityKind.CONVERSION,
            "data": {"lead_id": locked.pk, "contact_id": contact.pk},
        },
    )
    locked.status = LeadStatus.CONVERTED
    locked.converted_contact = contact
    locked.converted_deal = deal
    locked.converted_at = timezone.now()
    locked.save()
    data = {"lead_id": locked.pk, "contact_id": contact.pk, "deal_id": deal.pk}
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.CONVERSION,
        actor_id=actor_id,
        lead_id=locked.pk,
        data=data,
    )
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.CONVERSION,
        actor_id=actor_id,
        contact_id=contact.pk,
        data=data,
    )
    return contact, deal
