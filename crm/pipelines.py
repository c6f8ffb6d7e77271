"""Configuring the CRM: pipelines and their stages and custom fields, lost reasons, labels and
who may work on a restricted pipeline. Org admins only (``access.require_manage``), except
that agents may create labels.

Updates take only the fields given (``stage_update(..., rotting_days=None)`` removes the
limit; leaving the keyword out keeps it). Every change to a pipeline, its stages or its custom
fields locks the pipeline row first, so two admins editing the same pipeline take turns, and
tells the board's viewers to refetch (``crm.events.pipeline_changed``, sent after commit).

Nothing here loses a deal: a stage is deleted only after its deals are moved to another stage
of the pipeline, and a custom field's kind cannot change while deals hold a value for it.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import F, Func, JSONField, Max, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from fractional_indexing import generate_n_keys_between
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm
from rest_framework import status as http

from accounts.models import Membership, User
from core.exceptions import ApplicationError, ConflictError
from crm import access
from crm.models import (
    ActivityKind,
    CustomField,
    CustomFieldKind,
    Deal,
    DealStatus,
    Label,
    LostReason,
    Pipeline,
    Stage,
)
from crm.timeline import activity_record

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# Custom field keys end up in filters as ``cf.<key>`` and ``cf.<key>__min``: no double
# underscore, so a key never looks like a key plus a suffix.
CUSTOM_FIELD_KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MAX_ROTTING_DAYS = 3650
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 100
MAX_STAGES = 50
# Deals whose custom field is removed are rewritten this many at a time.
CUSTOM_FIELD_BATCH = 1000

STAGE_FIELDS = frozenset({"name", "color", "probability", "is_won", "is_lost", "rotting_days"})
PIPELINE_FIELDS = frozenset({"name", "currency", "order", "archived"})
CUSTOM_FIELD_FIELDS = frozenset({"label", "kind", "choices", "required", "order"})


class StageData(TypedDict):
    id: int
    pipeline_id: int
    name: str
    color: str
    probability: int
    is_won: bool
    is_lost: bool
    order: int
    rotting_days: int | None


class CustomFieldData(TypedDict):
    id: int
    key: str
    label: str
    kind: str
    choices: list[str]
    required: bool
    order: int


class PipelineData(TypedDict):
    id: int
    name: str
    currency: str
    order: int
    restricted: bool
    archived: bool
    stages: list[StageData]
    custom_fields: list[CustomFieldData]


class UserRef(TypedDict):
    id: int
    name: str


class MemberData(TypedDict):
    id: int
    name: str
    role: str


class LabelData(TypedDict):
    id: int
    name: str
    color: str


class LostReasonData(TypedDict):
    id: int
    name: str
    order: int
    active: bool


class PipelineAccessData(TypedDict):
    restricted: bool
    users: list[UserRef]


# --- Payloads --------------------------------------------------------------------------------


def stage_data(stage: Stage) -> StageData:
    return {
        "id": stage.pk,
        "pipeline_id": stage.pipeline_id,
        "name": stage.name,
        "color": stage.color,
        "probability": stage.probability,
        "is_won": stage.is_won,
        "is_lost": stage.is_lost,
        "order": stage.order,
        "rotting_days": stage.rotting_days,
    }


def custom_field_data(field: CustomField) -> CustomFieldData:
    return {
        "id": field.pk,
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "choices": list(field.choices or []),
        "required": field.required,
        "order": field.order,
    }


def pipeline_data(pipeline: Pipeline) -> PipelineData:
    """The pipeline with its stages and custom fields in order (``.all()``: prefetch them)."""
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "currency": pipeline.currency,
        "order": pipeline.order,
        "restricted": pipeline.restricted,
        "archived": pipeline.archived_at is not None,
        "stages": [stage_data(stage) for stage in pipeline.stages.all()],
        "custom_fields": [custom_field_data(field) for field in pipeline.custom_fields.all()],
    }


def lost_reason_data(reason: LostReason) -> LostReasonData:
    return {"id": reason.pk, "name": reason.name, "order": reason.order, "active": reason.active}


# --- Selectors -------------------------------------------------------------------------------


def pipeline_list(*, user: Any, organization_id: int, archived: bool = False) -> list[Pipeline]:
    """The pipelines the user sees, in order, with stages and custom fields: three queries
    (plus the access check's)."""
    pipelines = access.pipelines_visible(user, organization_id).filter(
        archived_at__isnull=not archived
    )
    return list(pipelines.prefetch_related("stages", "custom_fields").order_by("order", "id"))


def pipeline_get(*, user: Any, organization_id: int, pipeline_id: int) -> Pipeline:
    """A pipeline the user sees, with its stages and custom fields; 404 ``crm.not_found``."""
    pipeline = (
        access.pipelines_visible(user, organization_id)
        .prefetch_related("stages", "custom_fields")
        .filter(pk=pipeline_id)
        .first()
    )
    if pipeline is None:
        raise access.not_found()
    return pipeline


def _refetched(pipeline: Pipeline) -> Pipeline:
    return Pipeline.objects.prefetch_related("stages", "custom_fields").get(pk=pipeline.pk)


def stage_get(*, pipeline: Pipeline, stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id, pipeline_id=pipeline.pk).first()
    if stage is None:
        raise access.not_found()
    return stage


def custom_field_get(*, pipeline: Pipeline, field_id: int) -> CustomField:
    field = CustomField.objects.filter(pk=field_id, pipeline_id=pipeline.pk).first()
    if field is None:
        raise access.not_found()
    return field


def lost_reason_list(*, organization_id: int, active_only: bool = False) -> QuerySet[LostReason]:
    reasons = LostReason.objects.filter(organization_id=organization_id)
    return reasons.filter(active=True) if active_only else reasons


def lost_reason_get(*, organization_id: int, reason_id: int) -> LostReason:
    reason = LostReason.objects.filter(pk=reason_id, organization_id=organization_id).first()
    if reason is None:
        raise access.not_found()
    return reason


def label_list(*, organization_id: int) -> QuerySet[Label]:
    return Label.objects.filter(organization_id=organization_id)


def label_get(*, organization_id: int, label_id: int) -> Label:
    label = Label.objects.filter(pk=label_id, organization_id=organization_id).first()
    if label is None:
        raise access.not_found()
    return label


def member_list(*, organization_id: int) -> list[MemberData]:
    """The organization's members (any role) by name: the owners and assignees picker."""
    memberships = (
        Membership.objects.filter(organization_id=organization_id, role__in=access.STAFF_ROLES)
        .select_related("user")
        .filter(user__is_active=True)
    )
    members: list[MemberData] = [
        {"id": item.user_id, "name": item.user.get_full_name(), "role": item.role}
        for item in memberships
    ]
    return sorted(members, key=lambda item: (item["name"].casefold(), item["id"]))


def _granted_users(pipeline: Pipeline) -> list[User]:
    users = get_users_with_perms(
        pipeline, only_with_perms_in=["use_pipeline"], with_group_users=False
    )
    return sorted(users, key=lambda user: (user.get_full_name().casefold(), user.pk))


def pipeline_access_data(pipeline: Pipeline) -> PipelineAccessData:
    """Whether the pipeline is restricted and who was given it (admins always see it)."""
    return {
        "restricted": pipeline.restricted,
        "users": [
            {"id": user.pk, "name": user.get_full_name()} for user in _granted_users(pipeline)
        ],
    }


# --- Validation ------------------------------------------------------------------------------


def _invalid(
    message: str, *, field: str, code: str = "crm.invalid_field", **extra: Any
) -> ApplicationError:
    return ApplicationError(
        message,
        code=code,
        extra={"field": field, **extra},
        status_code=http.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _text(value: Any, *, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise _invalid(_("This field must be text."), field=field)
    text = " ".join(value.split())
    if not text:
        raise _invalid(_("This field is required."), field=field)
    if len(text) > max_length:
        raise _invalid(
            _("At most %(count)d characters.") % {"count": max_length},
            field=field,
            max_length=max_length,
        )
    return text


def _bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(_("True or false."), field=field)
    return value


def _whole(value: Any, *, field: str, maximum: int, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _invalid(
            _("A whole number from %(minimum)d to %(maximum)d.")
            % {"minimum": minimum, "maximum": maximum},
            field=field,
            minimum=minimum,
            maximum=maximum,
        )
    return value


def _color(value: Any, *, field: str = "color") -> str:
    if not isinstance(value, str) or not COLOR.match(value):
        raise _invalid(_("A colour like #3b82f6."), field=field)
    return value.lower()


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise _invalid(_("A three-letter currency code like BRL."), field="currency")
    return value


def _name_taken(field: str = "name") -> ConflictError:
    return ConflictError(
        _("This name is already used."), code="crm.name_taken", extra={"field": field}
    )


def _stage_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - STAGE_FIELDS
    if unknown:
        raise TypeError(f"unknown stage fields: {sorted(unknown)}")
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            clean[key] = _text(value, field=key, max_length=60)
        elif key == "color":
            clean[key] = _color(value)
        elif key == "probability":
            clean[key] = _whole(value, field=key, maximum=100)
        elif key in ("is_won", "is_lost"):
            clean[key] = _bool(value, field=key)
        elif key == "rotting_days":
            clean[key] = (
                None
                if value is None
                else _whole(value, field=key, minimum=1, maximum=MAX_ROTTING_DAYS)
            )
    return clean


def _check_won_and_lost(stage: Stage) -> None:
    if stage.is_won and stage.is_lost:
        raise _invalid(_("A stage cannot be both won and lost."), field="is_lost")


def _locked_pipeline(pipeline: Pipeline) -> Pipeline:
    return Pipeline.objects.select_for_update().get(pk=pipeline.pk)


def _changed(pipeline_id: int) -> None:
    from crm import events

    events.pipeline_changed(pipeline_id)


def default_stages() -> list[dict[str, Any]]:
    """A new pipeline's stages, named in the creator's language."""
    return [
        {"name": _("New"), "color": "#3b82f6", "probability": 10},
        {"name": _("Qualified"), "color": "#6366f1", "probability": 25},
        {"name": _("Proposal"), "color": "#8b5cf6", "probability": 50},
        {"name": _("Negotiation"), "color": "#f59e0b", "probability": 75},
        {"name": _("Won"), "color": "#16a34a", "probability": 100, "is_won": True},
        {"name": _("Lost"), "color": "#dc2626", "probability": 0, "is_lost": True},
    ]


# --- Pipelines -------------------------------------------------------------------------------


@transaction.atomic
def pipeline_create(
    *,
    actor: Any,
    organization_id: int,
    name: str,
    currency: str = "BRL",
    restricted: bool = False,
    stages: list[dict[str, Any]] | None = None,
) -> Pipeline:
    """Create a pipeline at the end of the organization's list, with ``stages`` (dicts of
    name, color, probability, is_won, is_lost, rotting_days; in order) or the default six.

    Raises 403/404 for non-admins, 422 ``crm.invalid_field`` (extra {"field"}), 409
    ``crm.name_taken`` (another active pipeline has the name). Emits ``crm.pipeline.changed``.
    """
    access.require_manage(actor, organization_id)
    specs = default_stages() if stages is None else stages
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_STAGES:
        raise _invalid(
            _("A pipeline has from 1 to %(count)d stages.") % {"count": MAX_STAGES},
            field="stages",
        )
    cleaned = []
    for spec in specs:
        if not isinstance(spec, dict) or "name" not in spec:
            raise _invalid(_("Each stage needs a name."), field="stages")
        stage = Stage(**_stage_fields(spec))
        _check_won_and_lost(stage)
        cleaned.append(stage)
    last = Pipeline.objects.filter(organization_id=organization_id).aggregate(top=Max("order"))
    pipeline = Pipeline(
        organization_id=organization_id,
        name=_text(name, field="name", max_length=100),
        currency=_currency(currency),
        restricted=_bool(restricted, field="restricted"),
        order=0 if last["top"] is None else last["top"] + 1,
    )
    try:
        with transaction.atomic():
            pipeline.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    for order, stage in enumerate(cleaned):
        stage.pipeline = pipeline
        stage.order = order
    Stage.objects.bulk_create(cleaned)
    _changed(pipeline.pk)
    return _refetched(pipeline)


@transaction.atomic
def pipeline_update(*, actor: Any, pipeline: Pipeline, **fields: Any) -> Pipeline:
    """Change ``name``, ``currency`` (of new deals), ``order`` and/or ``archived`` (False
    restores an archived pipeline). Locks the pipeline. Raises as ``pipeline_create``."""
    access.require_manage(actor, pipeline.organization_id)
    unknown = set(fields) - PIPELINE_FIELDS
    if unknown:
        raise TypeError(f"unknown pipeline fields: {sorted(unknown)}")
    locked = _locked_pipeline(pipeline)
    if "name" in fields:
        locked.name = _text(fields["name"], field="name", max_length=100)
    if "currency" in fields:
        locked.currency = _currency(fields["currency"])
    if "order" in fields:
        locked.order = _whole(fields["order"], field="order", maximum=10_000)
    if "archived" in fields:
        archived = _bool(fields["archived"], field="archived")
        if archived != (locked.archived_at is not None):
            locked.archived_at = timezone.now() if archived else None
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    _changed(locked.pk)
    return _refetched(locked)


def pipeline_archive(*, actor: Any, pipeline: Pipeline) -> Pipeline:
    """Archive the pipeline: it leaves the lists, its deals stay (and stay reachable by id).
    Archiving an archived pipeline changes nothing."""
    return pipeline_update(actor=actor, pipeline=pipeline, archived=True)


@transaction.atomic
def pipeline_access_set(
    *, actor: Any, pipeline: Pipeline, restricted: bool, user_ids: list[int]
) -> list[User]:
    """Restrict the pipeline (or not) and give ``crm.use_pipeline`` to exactly ``user_ids``
    (members of the organization; org admins see every pipeline anyway). Grants are kept
    while the pipeline is open, so restricting it again restores them. Locks the pipeline.

    Returns the granted users by name. Raises 403/404 for non-admins, 422
    ``crm.invalid_reference`` (extra {"field": "user_ids"}) for someone outside the
    organization. Emits ``crm.pipeline.changed``.
    """
    access.require_manage(actor, pipeline.organization_id)
    locked = _locked_pipeline(pipeline)
    wanted = set(user_ids)
    members = set(
        Membership.objects.filter(
            organization_id=locked.organization_id,
            user_id__in=wanted,
            role__in=access.STAFF_ROLES,
        ).values_list("user_id", flat=True)
    )
    if wanted - members:
        raise ApplicationError(
            _("Only members of the organization can be given a pipeline."),
            code="crm.invalid_reference",
            extra={"field": "user_ids"},
            status_code=http.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    locked.restricted = _bool(restricted, field="restricted")
    locked.save(update_fields=["restricted", "updated_at"])
    current = {user.pk: user for user in _granted_users(locked)}
    for user in User.objects.filter(pk__in=wanted - set(current)).order_by("pk"):
        assign_perm(access.USE_PIPELINE, user, locked)
    for user_id in sorted(set(current) - wanted):
        remove_perm(access.USE_PIPELINE, current[user_id], locked)
    _changed(locked.pk)
    return _granted_users(locked)


# --- Stages ----------------------------------------------------------------------------------


def _renumber(stages: list[Stage]) -> None:
    for order, stage in enumerate(stages):
        stage.order = order
    Stage.objects.bulk_update(stages, ["order"])


@transaction.atomic
def stage_create(
    *, actor: Any, pipeline: Pipeline, name: str, position: int | None = None, **fields: Any
) -> Stage:
    """Add a stage at ``position`` (0 = first; None = last). ``fields``: color, probability,
    is_won, is_lost, rotting_days. Locks the pipeline. Raises 403/404 for non-admins, 422
    ``crm.invalid_field``. Emits ``crm.pipeline.changed``."""
    access.require_manage(actor, pipeline.organization_id)
    locked = _locked_pipeline(pipeline)
    stage = Stage(pipeline=locked, **_stage_fields({**fields, "name": name}))
    _check_won_and_lost(stage)
    stages = list(locked.stages.order_by("order", "id"))
    if len(stages) >= MAX_STAGES:
        raise _invalid(
            _("A pipeline has from 1 to %(count)d stages.") % {"count": MAX_STAGES},
            field="stages",
        )
    if position is None:
        index = len(stages)
    else:
        index = _whole(position, field="position", maximum=len(stages))
    stage.order = index
    stage.save()
    stages.insert(index, stage)
    _renumber(stages)
    _changed(locked.pk)
    return stage


@transaction.atomic
def stage_update(*, actor: Any, stage: Stage, **fields: Any) -> Stage:
    """Change a stage's name, color, probability, rotting_days, is_won or is_lost.

    A stage holding deals keeps its won/lost flags (409 ``crm.stage_in_use``): its deals'
    status follows the flags, so mark them won or lost, or move them, first. Locks the
    pipeline. Raises 403/404 for non-admins, 422 ``crm.invalid_field``. Emits
    ``crm.pipeline.changed``.
    """
    access.require_manage(actor, stage.pipeline.organization_id)
    _locked_pipeline(stage.pipeline)
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    clean = _stage_fields(fields)
    flags_change = any(
        key in clean and clean[key] != getattr(locked, key) for key in ("is_won", "is_lost")
    )
    for key, value in clean.items():
        setattr(locked, key, value)
    _check_won_and_lost(locked)
    if flags_change and Deal.objects.filter(stage_id=locked.pk).exists():
        raise ConflictError(
            _("This stage has deals: move them before changing whether it is won or lost."),
            code="crm.stage_in_use",
            extra={"deal_count": Deal.objects.filter(stage_id=locked.pk).count()},
        )
    locked.save()
    _changed(locked.pipeline_id)
    return locked


@transaction.atomic
def stages_reorder(*, actor: Any, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in the order of ``stage_ids`` (every stage once).

    Locks the pipeline. Raises 403/404 for non-admins, 422 ``crm.invalid_field`` (extra
    {"field": "stage_ids"}). Emits ``crm.pipeline.changed``.
    """
    access.require_manage(actor, pipeline.organization_id)
    locked = _locked_pipeline(pipeline)
    stages = {stage.pk: stage for stage in locked.stages.all()}
    if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(stages):
        raise _invalid(_("List every stage of the pipeline once."), field="stage_ids")
    ordered = [stages[stage_id] for stage_id in stage_ids]
    _renumber(ordered)
    _changed(locked.pk)
    return ordered


@transaction.atomic
def stage_delete(*, actor: Any, stage: Stage, move_to_stage_id: int | None = None) -> int:
    """Delete a stage, first moving its deals to the end of another stage of the pipeline,
    in their order. Returns how many deals moved.

    Locks the pipeline, then both stages in id order (``deals.deal_move`` locks the target
    stage before a deal, so no move lands in either column meanwhile and the new keys follow
    the target's last card), then the deals. Each moved deal gets a new version and a stage
    change on its timeline, and takes the status of its new stage.

    Raises 403/404 for non-admins; 409 ``crm.stage_in_use`` (extra {"deal_count"}) when it
    has deals and no target; 422 ``crm.invalid_stage`` for a target that is not another
    stage of the pipeline; 409 ``crm.last_stage`` for a pipeline's only stage. Emits
    ``crm.pipeline.changed``.
    """
    pipeline = stage.pipeline
    access.require_manage(actor, pipeline.organization_id)
    _locked_pipeline(pipeline)
    if not Stage.objects.filter(pipeline_id=pipeline.pk).exclude(pk=stage.pk).exists():
        raise ConflictError(_("A pipeline keeps at least one stage."), code="crm.last_stage")
    target: Stage | None = None
    if move_to_stage_id is not None:
        target = Stage.objects.filter(pk=move_to_stage_id, pipeline_id=pipeline.pk).first()
        if target is None or target.pk == stage.pk:
            raise ApplicationError(
                _("Choose another stage of this pipeline."),
                code="crm.invalid_stage",
                extra={"field": "move_to"},
                status_code=http.HTTP_422_UNPROCESSABLE_ENTITY,
            )
    locked_stages = {
        item.pk: item
        for item in Stage.objects.select_for_update()
        .filter(pk__in=[stage.pk] + ([target.pk] if target else []))
        .order_by("pk")
    }
    source = locked_stages[stage.pk]
    moving = list(
        Deal.objects.select_for_update().filter(stage_id=source.pk).order_by("position", "id")
    )
    if moving and target is None:
        raise ConflictError(
            _("This stage has deals: choose the stage they move to."),
            code="crm.stage_in_use",
            extra={"deal_count": len(moving)},
        )
    if target is not None and moving:
        target = locked_stages[target.pk]
        _move_deals(actor=actor, deals=moving, source=source, target=target)
    source.delete()
    _changed(pipeline.pk)
    return len(moving)


def _move_deals(*, actor: Any, deals: list[Deal], source: Stage, target: Stage) -> None:
    last = (
        Deal.objects.filter(stage_id=target.pk)
        .order_by("-position", "-id")
        .values_list("position", flat=True)
        .first()
    )
    keys = generate_n_keys_between(last, None, len(deals))
    now = timezone.now()
    status = (
        DealStatus.WON if target.is_won else DealStatus.LOST if target.is_lost else DealStatus.OPEN
    )
    for deal, key in zip(deals, keys, strict=True):
        deal.stage_id = target.pk
        deal.position = key
        deal.version = deal.version + 1
        deal.stage_changed_at = now
        if deal.status != status:
            deal.status = status
            deal.closed_at = None if status == DealStatus.OPEN else now
            if status != DealStatus.LOST:
                deal.lost_reason_id = None
                deal.lost_note = ""
    Deal.objects.bulk_update(
        deals,
        [
            "stage_id",
            "position",
            "version",
            "stage_changed_at",
            "status",
            "closed_at",
            "lost_reason_id",
            "lost_note",
        ],
        batch_size=500,
    )
    Deal.objects.filter(pk__in=[deal.pk for deal in deals]).update(updated_at=now)
    moved = {
        "from": {"id": source.pk, "name": source.name},
        "to": {"id": target.pk, "name": target.name},
    }
    for deal in deals:
        activity_record(
            organization_id=deal.organization_id,
            kind=ActivityKind.STAGE_CHANGE,
            actor_id=getattr(actor, "pk", None),
            deal_id=deal.pk,
            data=moved,
        )


# --- Custom fields ---------------------------------------------------------------------------


def _choices(kind: str, value: Any) -> list[str]:
    if kind != CustomFieldKind.CHOICE:
        if value not in (None, []):
            raise _invalid(_("Only choice fields have choices."), field="choices")
        return []
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_CHOICES
        or not all(isinstance(item, str) for item in value)
    ):
        raise _invalid(
            _("A choice field needs from 1 to %(count)d options.") % {"count": MAX_CHOICES},
            field="choices",
        )
    cleaned = [" ".join(item.split()) for item in value]
    if any(not item or len(item) > MAX_CHOICE_LENGTH for item in cleaned):
        raise _invalid(
            _("Each option has from 1 to %(count)d characters.") % {"count": MAX_CHOICE_LENGTH},
            field="choices",
        )
    if len(set(cleaned)) != len(cleaned):
        raise _invalid(_("The options must be different."), field="choices")
    return cleaned


def _kind(value: Any) -> str:
    if value not in CustomFieldKind.values:
        raise _invalid(
            _("Unknown kind of field."), field="kind", allowed=list(CustomFieldKind.values)
        )
    return str(value)


def _deals_with_value(field: CustomField) -> QuerySet[Deal]:
    """The pipeline's deals holding a (non-null) value for the field."""
    return Deal.objects.filter(
        pipeline_id=field.pipeline_id, custom_fields__has_key=field.key
    ).exclude(**{f"custom_fields__{field.key}": None})


@transaction.atomic
def custom_field_create(
    *,
    actor: Any,
    pipeline: Pipeline,
    label: str,
    kind: str,
    key: str | None = None,
    choices: list[str] | None = None,
    required: bool = False,
) -> CustomField:
    """Add a custom field at the end of the pipeline's. ``key`` (lower-case letters, digits
    and single underscores; unique in the pipeline) defaults to one made from the label.

    Locks the pipeline. Raises 403/404 for non-admins, 422 ``crm.invalid_field`` (a choice
    field needs a non-empty list of distinct options), 409 ``crm.custom_field_key_taken``.
    Emits ``crm.pipeline.changed``.
    """
    access.require_manage(actor, pipeline.organization_id)
    locked = _locked_pipeline(pipeline)
    clean_label = _text(label, field="label", max_length=60)
    if key is None:
        key = slugify(clean_label).replace("-", "_")[:40].strip("_")
    if not isinstance(key, str) or len(key) > 40 or not CUSTOM_FIELD_KEY.match(key):
        raise _invalid(
            _("Lower-case letters, digits and single underscores, starting with a letter."),
            field="key",
        )
    clean_kind = _kind(kind)
    last = locked.custom_fields.aggregate(top=Max("order"))
    field = CustomField(
        pipeline=locked,
        key=key,
        label=clean_label,
        kind=clean_kind,
        choices=_choices(clean_kind, choices),
        required=_bool(required, field="required"),
        order=0 if last["top"] is None else last["top"] + 1,
    )
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError as exc:
        raise ConflictError(
            _("Another field of this pipeline has this key."),
            code="crm.custom_field_key_taken",
            extra={"field": "key"},
        ) from exc
    _changed(locked.pk)
    return field


@transaction.atomic
def custom_field_update(*, actor: Any, field: CustomField, **fields: Any) -> CustomField:
    """Change a field's label, kind, choices, required flag or order (its key stays).

    While deals hold values for it, its kind cannot change, nor can a choice in use be
    removed (409 ``crm.custom_field_in_use``, extra {"deal_count"} or {"choices"}). Locks the
    pipeline. Raises 403/404 for non-admins, 422 ``crm.invalid_field``. Emits
    ``crm.pipeline.changed``.
    """
    access.require_manage(actor, field.pipeline.organization_id)
    unknown = set(fields) - CUSTOM_FIELD_FIELDS
    if unknown:
        raise TypeError(f"unknown custom field fields: {sorted(unknown)}")
    _locked_pipeline(field.pipeline)
    locked = CustomField.objects.select_for_update().get(pk=field.pk)
    if "label" in fields:
        locked.label = _text(fields["label"], field="label", max_length=60)
    if "required" in fields:
        locked.required = _bool(fields["required"], field="required")
    if "order" in fields:
        locked.order = _whole(fields["order"], field="order", maximum=10_000)
    kind = _kind(fields["kind"]) if "kind" in fields else locked.kind
    if kind != locked.kind:
        in_use = _deals_with_value(locked).count()
        if in_use:
            raise ConflictError(
                _("Deals have values in this field: its kind cannot change."),
                code="crm.custom_field_in_use",
                extra={"deal_count": in_use},
            )
    if "choices" in fields or kind != locked.kind:
        choices = _choices(kind, fields.get("choices"))
        removed = sorted(set(locked.choices) - set(choices))
        if kind == locked.kind == CustomFieldKind.CHOICE and removed:
            used = sorted(
                set(
                    _deals_with_value(locked)
                    .filter(**{f"custom_fields__{locked.key}__in": removed})
                    .values_list(f"custom_fields__{locked.key}", flat=True)
                )
            )
            if used:
                raise ConflictError(
                    _("Deals use these options: they cannot be removed."),
                    code="crm.custom_field_in_use",
                    extra={"choices": used},
                )
        locked.choices = choices
    locked.kind = kind
    locked.save()
    _changed(locked.pipeline_id)
    return locked


class _WithoutKey(Func):
    """A JSON object without one key: PostgreSQL's ``jsonb - text``, SQLite's json_remove."""

    output_field = JSONField()

    def __init__(self, expression: Any, key: str) -> None:
        self.key = key
        super().__init__(expression)

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"({sql} - %s::text)", (*params, self.key)

    def as_sqlite(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        # The key is a checked slug, so quoting it in the JSON path is enough.
        return f"JSON_REMOVE({sql}, %s)", (*params, f'$."{self.key}"')


@transaction.atomic
def custom_field_delete(*, actor: Any, field: CustomField) -> int:
    """Delete a custom field and remove its key from every deal of the pipeline (batches of
    CUSTOM_FIELD_BATCH deals, one UPDATE each). Returns how many deals held it.

    Locks the pipeline. Raises 403/404 for non-admins. Emits ``crm.pipeline.changed``.
    """
    access.require_manage(actor, field.pipeline.organization_id)
    _locked_pipeline(field.pipeline)
    holding = Deal.objects.filter(pipeline_id=field.pipeline_id, custom_fields__has_key=field.key)
    cleared = 0
    while True:
        batch = list(holding.order_by("pk").values_list("pk", flat=True)[:CUSTOM_FIELD_BATCH])
        if not batch:
            break
        cleared += Deal.objects.filter(pk__in=batch).update(
            custom_fields=_WithoutKey(F("custom_fields"), field.key)
        )
    field.delete()
    _changed(field.pipeline_id)
    return cleared


# --- Lost reasons ----------------------------------------------------------------------------


@transaction.atomic
def lost_reason_create(*, actor: Any, organization_id: int, name: str) -> LostReason:
    """Add a reason at the end of the organization's list. Raises 403/404 for non-admins,
    422 ``crm.invalid_field``, 409 ``crm.name_taken``."""
    access.require_manage(actor, organization_id)
    last = LostReason.objects.filter(organization_id=organization_id).aggregate(top=Max("order"))
    reason = LostReason(
        organization_id=organization_id,
        name=_text(name, field="name", max_length=100),
        order=0 if last["top"] is None else last["top"] + 1,
    )
    try:
        with transaction.atomic():
            reason.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    return reason


@transaction.atomic
def lost_reason_update(*, actor: Any, reason: LostReason, **fields: Any) -> LostReason:
    """Change a reason's ``name``, ``order`` or ``active`` (an inactive reason is kept by the
    deals lost with it but offered no more). Raises as ``lost_reason_create``."""
    access.require_manage(actor, reason.organization_id)
    unknown = set(fields) - {"name", "order", "active"}
    if unknown:
        raise TypeError(f"unknown lost reason fields: {sorted(unknown)}")
    locked = LostReason.objects.select_for_update().get(pk=reason.pk)
    if "name" in fields:
        locked.name = _text(fields["name"], field="name", max_length=100)
    if "order" in fields:
        locked.order = _whole(fields["order"], field="order", maximum=10_000)
    if "active" in fields:
        locked.active = _bool(fields["active"], field="active")
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    return locked


@transaction.atomic
def lost_reason_delete(*, actor: Any, reason: LostReason) -> None:
    """Delete a reason no deal was lost with; otherwise 409 ``crm.lost_reason_in_use``
    (deactivate it instead: the deals keep their reason)."""
    access.require_manage(actor, reason.organization_id)
    if Deal.objects.filter(lost_reason_id=reason.pk).exists():
        raise ConflictError(
            _("Deals were lost with this reason: deactivate it instead."),
            code="crm.lost_reason_in_use",
        )
    reason.delete()


# --- Labels ----------------------------------------------------------------------------------


def _label_pipelines_changed(label: Label) -> None:
    # Cards show their labels: the boards holding this label's deals refetch.
    pipeline_ids = (
        Deal.objects.filter(labels=label).values_list("pipeline_id", flat=True).distinct()
    )
    for pipeline_id in sorted(set(pipeline_ids)):
        _changed(pipeline_id)


@transaction.atomic
def label_create(*, actor: Any, organization_id: int, name: str, color: str = "#64748b") -> Label:
    """Create a label (agents and admins). Raises 403/404 for viewers and outsiders, 422
    ``crm.invalid_field``, 409 ``crm.name_taken``."""
    access.require_write(actor, organization_id)
    label = Label(
        organization_id=organization_id,
        name=_text(name, field="name", max_length=50),
        color=_color(color),
    )
    try:
        with transaction.atomic():
            label.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    return label


@transaction.atomic
def label_update(*, actor: Any, label: Label, **fields: Any) -> Label:
    """Rename or recolour a label (org admins). Raises as ``label_create``; emits
    ``crm.pipeline.changed`` for the pipelines whose deals carry it."""
    access.require_manage(actor, label.organization_id)
    unknown = set(fields) - {"name", "color"}
    if unknown:
        raise TypeError(f"unknown label fields: {sorted(unknown)}")
    locked = Label.objects.select_for_update().get(pk=label.pk)
    if "name" in fields:
        locked.name = _text(fields["name"], field="name", max_length=50)
    if "color" in fields:
        locked.color = _color(fields["color"])
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    _label_pipelines_changed(locked)
    return locked


@transaction.atomic
def label_delete(*, actor: Any, label: Label) -> None:
    """Delete a label (org admins): it leaves every deal, contact, company and lead."""
    access.require_manage(actor, label.organization_id)
    _label_pipelines_changed(label)
    label.delete()
