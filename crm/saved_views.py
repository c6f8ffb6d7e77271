"""Saved views: a user's named filter sets for one kind of CRM records, shown as a list or a
board. Each person sees and changes only their own; another's is as missing as one that never
existed (404 ``crm.not_found``). Filters are checked by ``crm.filtering.clean_filters``.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, ConflictError
from crm import access, filtering
from crm.models import SavedView, SavedViewEntity, SavedViewMode

NAME_MAX_LENGTH = 80


class SavedViewData(TypedDict):
    id: int
    name: str
    entity: str
    mode: str
    filters: dict[str, Any]
    order: int


def saved_view_data(view: SavedView) -> SavedViewData:
    return {
        "id": view.pk,
        "name": view.name,
        "entity": view.entity,
        "mode": view.mode,
        "filters": view.filters,
        "order": view.order,
    }


def saved_views_list(
    *, user: Any, organization_id: int, entity: str | None = None
) -> QuerySet[SavedView]:
    """The user's own views in the organization (of one kind of records if given)."""
    views = SavedView.objects.filter(organization_id=organization_id, user_id=user.pk)
    if entity:
        views = views.filter(entity=entity)
    return views.order_by("order", "id")


def saved_view_for(user: Any, organization_id: int, view_id: int) -> SavedView:
    """One of the user's own views; 404 ``crm.not_found`` for anything else."""
    view = saved_views_list(user=user, organization_id=organization_id).filter(pk=view_id).first()
    if view is None:
        raise access.not_found()
    return view


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code="crm.invalid_view", extra={"field": field}, status_code=422
    )


def _name_taken() -> ConflictError:
    return ConflictError(_("You already have a view with this name."), code="crm.view_name_taken")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", _("A view needs a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise _invalid("name", _("The name is too long."))
    return name


def _clean_mode(entity: str, mode: str) -> str:
    if mode not in SavedViewMode.values:
        raise _invalid("mode", _("Unknown mode."))
    if mode == SavedViewMode.BOARD and entity != SavedViewEntity.DEALS:
        # Only deals have a board.
        raise _invalid("mode", _("Only deals can be shown as a board."))
    return mode


def _save(view: SavedView, update_fields: list[str] | None = None) -> None:
    # The unique (organization, user, name) constraint settles two saves racing on a name.
    try:
        with transaction.atomic():
            view.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise _name_taken() from exc


@transaction.atomic
def saved_view_create(
    *,
    actor: User,
    organization_id: int,
    name: str,
    entity: str,
    filters: dict[str, Any] | None = None,
    mode: str = SavedViewMode.LIST,
    order: int | None = None,
) -> SavedView:
    """Save a view for the actor (any member, viewers too: it changes nothing shared).

    422 ``crm.invalid_view`` {"field"} for a bad name, records or mode, 422
    ``crm.invalid_filter`` for bad filters, 409 ``crm.view_name_taken`` when the actor has a
    view of that name already. Appended after the actor's views unless ``order`` is given.
    """
    access.require_member(actor, organization_id)
    name = _clean_name(name)
    if entity not in SavedViewEntity.values:
        raise _invalid("entity", _("Unknown records."))
    mode = _clean_mode(entity, mode)
    cleaned = filtering.clean_filters(entity, filters or {})
    if order is None:
        last = (
            saved_views_list(user=actor, organization_id=organization_id)
            .order_by("-order")
            .values_list("order", flat=True)
            .first()
        )
        order = 0 if last is None else last + 1
    view = SavedView(
        organization_id=organization_id,
        user=actor,
        name=name,
        entity=entity,
        mode=mode,
        filters=cleaned,
        order=order,
    )
    _save(view)
    return view


@transaction.atomic
def saved_view_update(*, actor: User, view: SavedView, **fields: Any) -> SavedView:
    """Change the actor's own view: ``name``, ``mode``, ``filters`` (replaced whole) or
    ``order``. Someone else's view is 404; errors as in ``saved_view_create``."""
    if view.user_id != actor.pk:
        raise access.not_found()
    access.require_member(actor, view.organization_id)
    changed: list[str] = []
    if "name" in fields:
        view.name = _clean_name(fields["name"])
        changed.append("name")
    if "mode" in fields:
        view.mode = _clean_mode(view.entity, fields["mode"])
        changed.append("mode")
    if "filters" in fields:
        view.filters = filtering.clean_filters(view.entity, fields["filters"] or {})
        changed.append("filters")
    if "order" in fields:
        view.order = int(fields["order"])
        changed.append("order")
    if changed:
        _save(view, update_fields=[*changed, "updated_at"])
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Delete the actor's own view (someone else's is 404)."""
    if view.user_id != actor.pk:
        raise access.not_found()
    SavedView.objects.filter(pk=view.pk).delete()
