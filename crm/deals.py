"""Deals, the cards of the kanban: create, edit, move, win, lose, reopen, delete, and the
rebalancing of a column's position keys.

Every write is atomic and bumps the deal's ``version``; a caller sending the version it saw
(``expected_version``) is refused with the current card when someone changed it meanwhile.
Moves lock the target column (its Stage row) before the deal, so two moves into the same
column compute their keys one after the other and never collide; everything else that locks
a stage and a deal does so in the same order (``crm.pipelines.stage_delete`` too).

``actor`` is the person acting (permissions: ``crm.access``), or None for the system
(BotConversa rules, imports running as a task), which skips the permission checks but never
the organization's boundary. Events go to ``crm.pipeline.<id>`` after commit
(``crm.events``); a stage change also sends ``crm.signals.deal_stage_changed`` after commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import status as http

from accounts.models import Membership, User
from accounts.roles import Capability, role_can
from core.exceptions import ApplicationError, ConflictError
from crm import access, events, ordering, signals
from crm.board import card_by_id
from crm.fields import clean_custom_fields
from crm.models import (
    ActivityKind,
    Company,
    Contact,
    Deal,
    DealStatus,
    Label,
    LostReason,
    Pipeline,
    Stage,
)
from crm.timeline import activity_record

# The money cap keeps ``value * probability`` inside a bigint (the weighted totals).
VALUE_MAX = 10**15
TITLE_MAX_LENGTH = 200
LOST_NOTE_MAX_LENGTH = 255
UPDATABLE_FIELDS = (
    "title",
    "value",
    "currency",
    "probability",
    "contact_id",
    "company_id",
    "owner_id",
    "expected_close_date",
    "label_ids",
    "custom_fields",
)


# --- Errors ----------------------------------------------------------------------------------


def _unprocessable(message: str, code: str, **extra: Any) -> ApplicationError:
    return ApplicationError(
        message, code=code, extra=extra, status_code=http.HTTP_422_UNPROCESSABLE_ENTITY
    )


def invalid_reference(field: str) -> ApplicationError:
    return _unprocessable(
        _("This record does not exist in the organization."), "crm.invalid_reference", field=field
    )


def invalid_stage() -> ApplicationError:
    return _unprocessable(_("Choose a stage of the deal's pipeline."), "crm.invalid_stage")


def stale_move(deal_id: int, reason: str) -> ConflictError:
    return ConflictError(
        _("Someone changed this board meanwhile; the card is shown as it is now."),
        code="crm.stale_move",
        extra={"deal": card_by_id(deal_id), "reason": reason},
    )


def stale_deal(deal_id: int) -> ConflictError:
    return ConflictError(
        _("Someone changed this deal meanwhile; it is shown as it is now."),
        code="crm.stale_deal",
        extra={"deal": card_by_id(deal_id)},
    )


# --- Checking input --------------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _clean_title(value: Any) -> str:
    title = value.strip() if isinstance(value, str) else ""
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise _unprocessable(
            _("Give the deal a title of at most %(max)s characters.") % {"max": TITLE_MAX_LENGTH},
            "crm.invalid_title",
        )
    return title


def _clean_value(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= VALUE_MAX:
        raise _unprocessable(
            _("The value must be a whole number of centavos, zero or more."), "crm.invalid_value"
        )
    return value


def _clean_currency(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        raise _unprocessable(_("Use a three-letter currency code (BRL)."), "crm.invalid_currency")
    return value.upper()


def _clean_probability(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise _unprocessable(
            _("The probability is a whole percentage from 0 to 100."), "crm.invalid_probability"
        )
    return value


def _clean_date(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise _unprocessable(_("Use a date like 2025-12-31."), "crm.invalid_date")


def _check_contact(organization_id: int, contact_id: Any) -> int | None:
    if contact_id is None:
        return None
    if (
        not _is_id(contact_id)
        or not Contact.objects.filter(
            pk=contact_id, organization_id=organization_id, merged_into=None
        ).exists()
    ):
        raise invalid_reference("contact_id")
    return int(contact_id)


def _check_company(organization_id: int, company_id: Any) -> int | None:
    if company_id is None:
        return None
    if (
        not _is_id(company_id)
        or not Company.objects.filter(pk=company_id, organization_id=organization_id).exists()
    ):
        raise invalid_reference("company_id")
    return int(company_id)


def _check_owner(organization_id: int, owner_id: Any) -> int | None:
    if owner_id is None:
        return None
    if (
        not _is_id(owner_id)
        or not Membership.objects.filter(
            user_id=owner_id,
            organization_id=organization_id,
            role__in=access.STAFF_ROLES,
            user__is_active=True,
        ).exists()
    ):
        raise invalid_reference("owner_id")
    return int(owner_id)


def _check_labels(organization_id: int, label_ids: Any) -> list[int]:
    if label_ids is None:
        return []
    if not isinstance(label_ids, list | tuple | set) or not all(_is_id(v) for v in label_ids):
        raise invalid_reference("label_ids")
    wanted = sorted(set(label_ids))
    found = Label.objects.filter(organization_id=organization_id, pk__in=wanted).count()
    if found != len(wanted):
        raise invalid_reference("label_ids")
    return wanted


def _require_write(actor: Any, organization_id: int) -> None:
    if actor is not None:
        access.require_write(actor, organization_id)


def _require_pipeline(actor: Any, organization_id: int, pipeline_id: Any) -> Pipeline:
    """The pipeline, if it is the organization's and the actor sees it; 404 otherwise."""
    if not _is_id(pipeline_id):
        raise access.not_found()
    if actor is not None:
        return access.pipeline_for(actor, organization_id, pipeline_id)
    pipeline = Pipeline.objects.filter(pk=pipeline_id, organization_id=organization_id).first()
    if pipeline is None:
        raise access.not_found()
    return pipeline


def _require_deal_visible(actor: Any, deal: Deal) -> None:
    if (
        actor is not None
        and not access.pipelines_visible(actor, deal.organization_id)
        .filter(pk=deal.pipeline_id)
        .exists()
    ):
        raise access.not_found()


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "pk", None)


# --- Positions -------------------------------------------------------------------------------


def _after(position: str, deal_id: int) -> Q:
    return Q(position__gt=position) | Q(position=position, pk__gt=deal_id)


def _before(position: str, deal_id: int) -> Q:
    return Q(position__lt=position) | Q(position=position, pk__lt=deal_id)


def _end_key(stage_id: int, *, top: bool = False, exclude_id: int | None = None) -> str:
    """A key after the column's last card (before its first one with ``top``). The caller
    holds the stage's lock."""
    column = Deal.objects.filter(stage_id=stage_id)
    if exclude_id is not None:
        column = column.exclude(pk=exclude_id)
    if top:
        first = column.order_by("position", "id").values_list("position", flat=True).first()
        return ordering.key_between(None, first)
    last = column.order_by("-position", "-id").values_list("position", flat=True).first()
    return ordering.key_between(last, None)


def _key_between_neighbours(
    stage: Stage, deal: Deal, before_id: int | None, after_id: int | None
) -> str:
    """The key that puts ``deal`` just below ``before_id`` and just above ``after_id`` in the
    locked ``stage``. With only one neighbour the card goes right next to it; with none, at
    the end. 409 ``crm.stale_move`` (reason "neighbours") when a neighbour is not in the
    column or the two are no longer next to each other."""
    column = Deal.objects.filter(stage_id=stage.pk).exclude(pk=deal.pk).order_by("position", "id")
    wanted = [pk for pk in (before_id, after_id) if pk is not None]
    rows = {row[0]: row for row in column.filter(pk__in=wanted).values_list("pk", "position")}
    if len(rows) != len(wanted) or len(set(wanted)) != len(wanted):
        raise stale_move(deal.pk, "neighbours")
    before = rows.get(before_id) if before_id is not None else None
    after = rows.get(after_id) if after_id is not None else None
    if before is not None and after is not None:
        if (before[1], before[0]) >= (after[1], after[0]) or column.filter(
            _after(before[1], before[0]) & _before(after[1], after[0])
        ).exists():
            raise stale_move(deal.pk, "neighbours")
    elif before is not None:
        after = column.filter(_after(before[1], before[0])).values_list("pk", "position").first()
    elif after is not None:
        before = (
            column.filter(_before(after[1], after[0]))
            .order_by("-position", "-id")
            .values_list("pk", "position")
            .first()
        )
    else:
        before = column.order_by("-position", "-id").values_list("pk", "position").first()
    lower = before[1] if before else None
    upper = after[1] if after else None
    if lower is not None and upper is not None and lower >= upper:
        # Equal keys leave no room between them (only rows written without the services can
        # have them): give the column fresh keys, then look again.
        _rebalance_locked(stage)
        return _key_between_neighbours(stage, deal, before_id, after_id)
    return ordering.key_between(lower, upper)


# --- Status ----------------------------------------------------------------------------------


def _enter_stage(deal: Deal, stage: Stage, now: datetime.datetime) -> None:
    """Set the deal's stage, and the status the stage implies: a won stage wins it, a lost
    stage loses it (no reason), any other stage reopens a closed deal."""
    changed = deal.stage_id != stage.pk
    deal.stage = stage
    if changed:
        deal.stage_changed_at = now
    wanted = DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else None
    if wanted is None:
        if changed and deal.status != DealStatus.OPEN:
            _reopen_fields(deal)
        return
    if deal.status != wanted:
        deal.status = wanted
        deal.closed_at = now
        deal.lost_reason = None
        deal.lost_note = ""


def _reopen_fields(deal: Deal) -> None:
    deal.status = DealStatus.OPEN
    deal.closed_at = None
    deal.lost_reason = None
    deal.lost_note = ""


def _stage_ref(stage: Stage) -> dict[str, Any]:
    return {"id": stage.pk, "name": stage.name}


def _first_stage(pipeline_id: int, **flags: bool) -> Stage | None:
    return Stage.objects.filter(pipeline_id=pipeline_id, **flags).order_by("order", "id").first()


def _lock_stage(stage_id: int) -> Stage:
    return Stage.objects.select_for_update().get(pk=stage_id)


def _lock_deal(deal_id: int) -> Deal:
    # No ordering: the model's default orders by stage, and the join it needs would make
    # FOR UPDATE lock the stage row too, out of the stage-then-deal order (a deadlock).
    locked = Deal.objects.select_for_update(of=("self",)).filter(pk=deal_id).order_by().first()
    if locked is None:
        raise access.not_found()
    return locked


# --- Notifications ---------------------------------------------------------------------------


def deal_url(deal_id: int) -> str:
    return f"/crm/deals/{deal_id}"


def _notify_owner(deal: Deal, actor: Any) -> None:
    """Tell a new owner someone else gave them the deal (once per version), in their
    language."""
    from chat.models import NotificationKind
    from chat.notifications import notification_create

    if deal.owner_id is None or deal.owner_id == _actor_id(actor):
        return
    owner = User.objects.filter(pk=deal.owner_id).only("pk", "language").first()
    if owner is None:
        return
    by = actor.get_full_name() if actor is not None else ""
    with translation.override(owner.language):
        if by:
            title = _("%(name)s gave you the deal %(title)s") % {"name": by, "title": deal.title}
        else:
            title = _("The deal %(title)s is yours") % {"title": deal.title}
        notification_create(
            user_id=owner.pk,
            kind=NotificationKind.CRM_DEAL_ASSIGNED,
            source=f"deal_assigned:{deal.pk}:{deal.version}",
            title=str(title),
            url=deal_url(deal.pk),
            data={"deal_id": deal.pk, "pipeline_id": deal.pipeline_id},
            actor_id=_actor_id(actor),
            organization_id=deal.organization_id,
        )


# --- Creating --------------------------------------------------------------------------------


@transaction.atomic
def deal_create(
    *,
    actor: Any,
    organization_id: int,
    pipeline_id: int,
    stage_id: int | None = None,
    title: str,
    value: Any = 0,
    currency: str | None = None,
    probability: int | None = None,
    contact_id: int | None = None,
    company_id: int | None = None,
    owner_id: int | None = None,
    expected_close_date: Any = None,
    label_ids: Iterable[int] = (),
    custom_fields: Mapping[str, Any] | None = None,
    at_top: bool = False,
    source_activity: Mapping[str, Any] | None = None,
) -> Deal:
    """Create a deal at the end of its column (at the top with ``at_top``).

    The stage defaults to the pipeline's first; the currency to the pipeline's. A deal
    created in a won or lost stage is closed at once. ``source_activity`` replaces the
    CREATED line of the timeline with another (``{"kind", "body", "data",
    "conversation_id", "call_id"}``, each optional: an import, a conversation).

    Locks the stage row (the column's end is read under it). Records the activity, notifies
    an owner other than the actor, emits ``crm.deal.created`` and sends
    ``deal_stage_changed`` after commit.

    Raises 404 ``crm.not_found`` (outsider, a pipeline the actor does not see), 403 (viewers),
    422 ``crm.invalid_reference`` {field} (stage, contact, company, owner or labels not of the
    organization), ``crm.invalid_title``, ``crm.invalid_value``, ``crm.invalid_currency``,
    ``crm.invalid_probability``, ``crm.invalid_date`` and the custom field errors.
    """
    _require_write(actor, organization_id)
    pipeline = _require_pipeline(actor, organization_id, pipeline_id)
    if stage_id is None:
        stage = _first_stage(pipeline.pk)
        if stage is None:
            raise invalid_reference("stage_id")
    else:
        found = (
            Stage.objects.filter(pk=stage_id, pipeline_id=pipeline.pk).first()
            if _is_id(stage_id)
            else None
        )
        if found is None:
            raise invalid_reference("stage_id")
        stage = found
    fields = {
        "title": _clean_title(title),
        "value": _clean_value(value),
        "currency": _clean_currency(currency) if currency is not None else pipeline.currency,
        "probability": _clean_probability(probability),
        "contact_id": _check_contact(organization_id, contact_id),
        "company_id": _check_company(organization_id, company_id),
        "owner_id": _check_owner(organization_id, owner_id),
        "expected_close_date": _clean_date(expected_close_date),
        "custom_fields": clean_custom_fields(pipeline, custom_fields, partial=False),
    }
    labels = _check_labels(organization_id, list(label_ids or ()))
    stage = _lock_stage(stage.pk)
    now = timezone.now()
    deal = Deal(
        organization_id=organization_id,
        pipeline=pipeline,
        position=_end_key(stage.pk, top=at_top),
        created_by_id=_actor_id(actor),
        stage_changed_at=now,
        **fields,
    )
    _enter_stage(deal, stage, now)
    deal.save()
    if labels:
        deal.labels.set(labels)
    activity = dict(source_activity or {})
    activity_record(
        organization_id=organization_id,
        kind=activity.get("kind", ActivityKind.CREATED),
        actor_id=_actor_id(actor),
        deal_id=deal.pk,
        body=activity.get("body", ""),
        data=activity.get("data", {"stage": _stage_ref(stage)}),
        conversation_id=activity.get("conversation_id"),
        call_id=activity.get("call_id"),
    )
    _notify_owner(deal, actor)
    signals.send_on_commit(
        signals.deal_stage_changed,
        deal_id=deal.pk,
        organization_id=organization_id,
        from_stage_id=None,
        to_stage_id=stage.pk,
        version=deal.version,
    )
    events.deal_created(deal.pk)
    if ordering.is_long(deal.position):
        _rebalance_later(stage.pk)
    return deal


# --- Editing ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@transaction.atomic
def deal_update(
    *, actor: Any, deal: Deal, expected_version: int | None = None, **fields: Any
) -> Deal:
    """Change a deal's fields (``UPDATABLE_FIELDS``; ``custom_fields`` merges: a key set to
    None is cleared). Fields given with their current value change nothing; when nothing
    changes, nothing is written or sent.

    Locks the deal row. Records FIELD_CHANGE ``{"changes": {field: [old, new]}}`` (custom
    fields as ``custom_fields.<key>``), bumps the version, notifies a new owner, emits
    ``crm.deal.updated``.

    Raises 404/403 (``crm.access``), 409 ``crm.stale_deal`` {deal: DealCard} for a stale
    ``expected_version``, and ``deal_create``'s 422 errors.
    """
    unknown = sorted(set(fields) - set(UPDATABLE_FIELDS))
    if unknown:
        raise TypeError(f"deal_update() got unexpected fields {unknown}")
    organization_id = deal.organization_id
    _require_write(actor, organization_id)
    _require_deal_visible(actor, deal)
    locked = _lock_deal(deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise stale_deal(locked.pk)
    new: dict[str, Any] = {}
    if "title" in fields:
        new["title"] = _clean_title(fields["title"])
    if "value" in fields:
        new["value"] = _clean_value(fields["value"])
    if "currency" in fields:
        new["currency"] = _clean_currency(fields["currency"])
    if "probability" in fields:
        new["probability"] = _clean_probability(fields["probability"])
    if "contact_id" in fields:
        new["contact_id"] = _check_contact(organization_id, fields["contact_id"])
    if "company_id" in fields:
        new["company_id"] = _check_company(organization_id, fields["company_id"])
    if "owner_id" in fields:
        new["owner_id"] = _check_owner(organization_id, fields["owner_id"])
    if "expected_close_date" in fields:
        new["expected_close_date"] = _clean_date(fields["expected_close_date"])
    changes: dict[str, list[Any]] = {}
    for name, value in new.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
            setattr(locked, name, value)
    if "custom_fields" in fields:
        cleaned = clean_custom_fields(locked.pipeline, fields["custom_fields"], partial=True)
        stored = dict(locked.custom_fields or {})
        for key, value in cleaned.items():
            old = stored.get(key)
            if old == value and (value is not None or key not in stored):
                continue
            if value is None and key not in stored:
                continue
            changes[f"custom_fields.{key}"] = [old, value]
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        locked.custom_fields = stored
    labels: list[int] | None = None
    if "label_ids" in fields:
        labels = _check_labels(organization_id, fields["label_ids"])
        current = sorted(locked.labels.values_list("pk", flat=True))
        if current != labels:
            changes["label_ids"] = [current, labels]
        else:
            labels = None
    if not changes:
        return locked
    owner_changed = "owner_id" in changes
    locked.version += 1
    locked.save()
    if labels is not None:
        locked.labels.set(labels)
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.FIELD_CHANGE,
        actor_id=_actor_id(actor),
        deal_id=locked.pk,
        data={"changes": changes},
    )
    if owner_changed:
        _notify_owner(locked, actor)
    events.deal_updated(locked.pk)
    return locked


# --- Moving ----------------------------------------------------------------------------------


@transaction.atomic
def deal_move(
    *,
    actor: Any,
    deal_id: int,
    organization_id: int,
    stage_id: int,
    before_id: int | None = None,
    after_id: int | None = None,
    expected_version: int | None = None,
) -> Deal:
    """Move a card: into ``stage_id``, just below ``before_id`` and just above ``after_id``
    (neither: at the end of the column). Entering a won or lost stage closes the deal;
    leaving one for an open stage reopens it.

    Locks the target Stage row, then the deal: moves into one column are serialized, so
    each computes its key from the committed neighbours, and the deal's version is checked
    on the locked row. Writes the deal's row only (stage, position, version, status); a stage
    change adds STAGE_CHANGE to the timeline and sends ``deal_stage_changed`` after commit.
    Emits ``crm.deal.moved``; a key past ``ordering.REBALANCE_LENGTH`` schedules the
    column's rebalance after commit.

    Raises 404/403 (``crm.access``), 422 ``crm.invalid_stage`` (not a stage of the deal's
    pipeline, whatever organization it is in), 409 ``crm.stale_move`` {deal: the current
    DealCard, reason: "version" | "neighbours"}.
    """
    _require_write(actor, organization_id)
    if not _is_id(deal_id):
        raise access.not_found()
    if actor is not None:
        deal = access.deal_for(actor, organization_id, deal_id)
    else:
        found = Deal.objects.filter(pk=deal_id, organization_id=organization_id).first()
        if found is None:
            raise access.not_found()
        deal = found
    if not _is_id(stage_id):
        raise invalid_stage()
    for neighbour in (before_id, after_id):
        if neighbour is not None and not _is_id(neighbour):
            raise stale_move(deal.pk, "neighbours")
    # The pipeline of a deal never changes, so the unlocked read above can pick the stage.
    stage = (
        Stage.objects.select_for_update().filter(pk=stage_id, pipeline_id=deal.pipeline_id).first()
    )
    if stage is None:
        raise invalid_stage()
    locked = _lock_deal(deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise stale_move(locked.pk, "version")
    key = _key_between_neighbours(stage, locked, before_id, after_id)
    from_stage = locked.stage
    now = timezone.now()
    locked.position = key
    locked.version += 1
    _enter_stage(locked, stage, now)
    locked.save(
        update_fields=[
            "stage",
            "position",
            "version",
            "status",
            "closed_at",
            "lost_reason",
            "lost_note",
            "stage_changed_at",
            "updated_at",
        ]
    )
    if from_stage.pk != stage.pk:
        activity_record(
            organization_id=organization_id,
            kind=ActivityKind.STAGE_CHANGE,
            actor_id=_actor_id(actor),
            deal_id=locked.pk,
            data={"from": _stage_ref(from_stage), "to": _stage_ref(stage)},
        )
        signals.send_on_commit(
            signals.deal_stage_changed,
            deal_id=locked.pk,
            organization_id=organization_id,
            from_stage_id=from_stage.pk,
            to_stage_id=stage.pk,
            version=locked.version,
        )
    events.deal_moved(locked.pk, from_stage.pk)
    if ordering.is_long(key):
        _rebalance_later(stage.pk)
    return locked


def _rebalance_later(stage_id: int) -> None:
    from crm import tasks

    tasks.rebalance_stage.delay_on_commit(stage_id)


def _lock_for_close(
    deal: Deal, target: Stage | None, expected_version: int | None
) -> tuple[Deal, Stage | None]:
    """Lock ``target`` (if any), then the deal; check the version on the locked row."""
    locked_target = _lock_stage(target.pk) if target is not None else None
    locked = _lock_deal(deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise stale_deal(locked.pk)
    return locked, locked_target


def _place(locked: Deal, target: Stage | None, now: datetime.datetime) -> tuple[Stage, bool]:
    """Put the locked deal at the end of ``target`` unless it is there already; (the stage
    it was in, whether it moved)."""
    from_stage = locked.stage
    moved = target is not None and target.pk != locked.stage_id
    if moved:
        assert target is not None
        locked.position = _end_key(target.pk, exclude_id=locked.pk)
        locked.stage = target
        locked.stage_changed_at = now
    return from_stage, moved


def _after_close(
    *,
    actor: Any,
    deal: Deal,
    from_stage: Stage,
    moved: bool,
    kind: str,
    body: str = "",
    data: dict[str, Any],
) -> None:
    deal.version += 1
    deal.save()
    activity_record(
        organization_id=deal.organization_id,
        kind=kind,
        actor_id=_actor_id(actor),
        deal_id=deal.pk,
        body=body,
        data=data,
    )
    if moved:
        signals.send_on_commit(
            signals.deal_stage_changed,
            deal_id=deal.pk,
            organization_id=deal.organization_id,
            from_stage_id=from_stage.pk,
            to_stage_id=deal.stage_id,
            version=deal.version,
        )
        events.deal_moved(deal.pk, from_stage.pk)
        if ordering.is_long(deal.position):
            _rebalance_later(deal.stage_id)
    else:
        events.deal_updated(deal.pk)


def _moved_data(from_stage: Stage, deal: Deal, moved: bool) -> dict[str, Any]:
    if not moved:
        return {}
    return {"from": _stage_ref(from_stage), "to": _stage_ref(deal.stage)}


@transaction.atomic
def deal_mark_won(*, actor: Any, deal: Deal, expected_version: int | None = None) -> Deal:
    """Win a deal: it moves to the end of the pipeline's first won stage if there is one
    (else only its status changes). A deal already won is left as it is.

    Locks the won stage, then the deal. Records WON (data: the stages when it moved), emits
    ``crm.deal.moved`` (or ``crm.deal.updated``), sends ``deal_stage_changed`` on a move.
    Raises 404/403, 409 ``crm.stale_deal``.
    """
    _require_write(actor, deal.organization_id)
    _require_deal_visible(actor, deal)
    target = _first_stage(deal.pipeline_id, is_won=True)
    locked, target = _lock_for_close(deal, target, expected_version)
    if locked.status == DealStatus.WON:
        return locked
    now = timezone.now()
    from_stage, moved = _place(locked, None if locked.stage.is_won else target, now)
    locked.status = DealStatus.WON
    locked.closed_at = now
    locked.lost_reason = None
    locked.lost_note = ""
    _after_close(
        actor=actor,
        deal=locked,
        from_stage=from_stage,
        moved=moved,
        kind=ActivityKind.WON,
        data=_moved_data(from_stage, locked, moved),
    )
    return locked


def _clean_lost_reason(organization_id: int, reason_id: Any) -> LostReason | None:
    active = LostReason.objects.filter(organization_id=organization_id, active=True)
    if reason_id is None:
        if active.exists():
            raise _unprocessable(_("Choose why the deal was lost."), "crm.invalid_lost_reason")
        return None
    reason = active.filter(pk=reason_id).first() if _is_id(reason_id) else None
    if reason is None:
        raise _unprocessable(
            _("Choose one of the organization's lost reasons."), "crm.invalid_lost_reason"
        )
    return reason


@transaction.atomic
def deal_mark_lost(
    *,
    actor: Any,
    deal: Deal,
    reason_id: int | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Deal:
    """Lose a deal, with a reason (required when the organization has active reasons) and a
    note: it moves to the end of the pipeline's first lost stage if there is one (else only
    its status changes). A deal already lost gets the new reason and note.

    Locks the lost stage, then the deal. Records LOST (body: the note; data: the reason and
    the stages when it moved), emits ``crm.deal.moved`` (or ``crm.deal.updated``), sends
    ``deal_stage_changed`` on a move. Raises 404/403, 409 ``crm.stale_deal``, 422
    ``crm.invalid_lost_reason``, ``crm.invalid_note``.
    """
    _require_write(actor, deal.organization_id)
    _require_deal_visible(actor, deal)
    if not isinstance(note, str) or len(note.strip()) > LOST_NOTE_MAX_LENGTH:
        raise _unprocessable(
            _("The note has at most %(max)s characters.") % {"max": LOST_NOTE_MAX_LENGTH},
            "crm.invalid_note",
        )
    note = note.strip()
    reason = _clean_lost_reason(deal.organization_id, reason_id)
    target = _first_stage(deal.pipeline_id, is_lost=True)
    locked, target = _lock_for_close(deal, target, expected_version)
    now = timezone.now()
    from_stage, moved = _place(locked, None if locked.stage.is_lost else target, now)
    if locked.status != DealStatus.LOST:
        locked.closed_at = now
    locked.status = DealStatus.LOST
    locked.lost_reason = reason
    locked.lost_note = note
    data = _moved_data(from_stage, locked, moved)
    data["reason"] = {"id": reason.pk, "name": reason.name} if reason else None
    _after_close(
        actor=actor,
        deal=locked,
        from_stage=from_stage,
        moved=moved,
        kind=ActivityKind.LOST,
        body=note,
        data=data,
    )
    return locked


@transaction.atomic
def deal_reopen(*, actor: Any, deal: Deal, stage_id: int | None = None) -> Deal:
    """Reopen a won or lost deal, into ``stage_id`` (an open stage of its pipeline) or, when
    it sits in a won or lost stage, the pipeline's first open stage (at the end of the
    column). An open deal is left as it is.

    Locks the target stage, then the deal. Records REOPENED, emits ``crm.deal.moved`` (or
    ``crm.deal.updated``), sends ``deal_stage_changed`` on a move. Raises 404/403, 422
    ``crm.invalid_stage`` (not an open stage of the pipeline).
    """
    _require_write(actor, deal.organization_id)
    _require_deal_visible(actor, deal)
    open_stages = Stage.objects.filter(pipeline_id=deal.pipeline_id, is_won=False, is_lost=False)
    if stage_id is not None:
        target = open_stages.filter(pk=stage_id).first() if _is_id(stage_id) else None
        if target is None:
            raise invalid_stage()
    else:
        target = open_stages.order_by("order", "id").first()
    locked, target = _lock_for_close(deal, target, None)
    if locked.status == DealStatus.OPEN:
        return locked
    if stage_id is None and not (locked.stage.is_won or locked.stage.is_lost):
        target = None
    now = timezone.now()
    from_stage, moved = _place(locked, target, now)
    _reopen_fields(locked)
    _after_close(
        actor=actor,
        deal=locked,
        from_stage=from_stage,
        moved=moved,
        kind=ActivityKind.REOPENED,
        data=_moved_data(from_stage, locked, moved),
    )
    return locked


# --- Deleting --------------------------------------------------------------------------------


@transaction.atomic
def deal_delete(*, actor: Any, deal: Deal) -> None:
    """Delete a deal with its timeline and tasks: org admins, or its owner if they may write.

    Locks the deal (ownership is checked on the locked row). Emits ``crm.deal.deleted``.
    Raises 404 (outsider, a pipeline the actor does not see), 403 (viewers; agents who do
    not own it).
    """
    organization_id = deal.organization_id
    may_manage = actor is None
    if actor is not None:
        found_role = access.require_member(actor, organization_id)
        _require_deal_visible(actor, deal)
        may_manage = role_can(found_role, Capability.CRM_MANAGE)
        if not may_manage and not role_can(found_role, Capability.CRM_WRITE):
            raise access.permission_denied()
    locked = _lock_deal(deal.pk)
    if not may_manage and locked.owner_id != actor.pk:
        raise access.permission_denied(
            _("Only the deal's owner or an administrator may delete it.")
        )
    stage_id, pipeline_id, version = locked.stage_id, locked.pipeline_id, locked.version
    deal_id = locked.pk
    locked.delete()
    events.deal_deleted(
        deal_id=deal_id, stage_id=stage_id, pipeline_id=pipeline_id, version=version
    )


# --- Rebalancing -----------------------------------------------------------------------------


def _rebalance_locked(stage: Stage) -> int:
    deals = list(
        Deal.objects.filter(stage_id=stage.pk).order_by("position", "id").only("pk", "position")
    )
    keys = ordering.keys_between(None, None, len(deals))
    changed = []
    for deal, key in zip(deals, keys, strict=True):
        if deal.position != key:
            deal.position = key
            changed.append(deal)
    Deal.objects.bulk_update(changed, ["position"], batch_size=1000)
    events.stage_rebalanced(stage_id=stage.pk, pipeline_id=stage.pipeline_id)
    return len(deals)


@transaction.atomic
def stage_rebalance(*, stage_id: int) -> int:
    """Give every card of a column a short key again, in the same order (``(position,
    id)``), spread evenly: ``keys_between(None, None, n)``. Versions do not change (the order
    does not). Returns the number of cards; 0 for a stage that is gone.

    Locks the stage row, so no move or creation lands in the column meanwhile. Emits
    ``crm.stage.rebalanced`` (clients refetch the column). Idempotent: a rerun writes the
    same keys.
    """
    stage = Stage.objects.select_for_update().filter(pk=stage_id).first()
    if stage is None:
        return 0
    return _rebalance_locked(stage)


def rebalance_long_positions() -> int:
    """Rebalance every column holding a key longer than ``ordering.REBALANCE_LENGTH`` (each
    in its own transaction). Returns how many columns were rebalanced."""
    stage_ids = list(
        Deal.objects.annotate(key_length=Length("position"))
        .filter(key_length__gt=ordering.REBALANCE_LENGTH)
        .values_list("stage_id", flat=True)
        .distinct()
        .order_by("stage_id")
    )
    for stage_id in stage_ids:
        stage_rebalance(stage_id=stage_id)
    return len(stage_ids)
