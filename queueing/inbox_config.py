"""Support inbox configuration: departments, queues and their members, canned responses and
the website widget's settings. Org admins only (``inbox_access.require_configure``).

Updates take only the fields given (``queue_update(..., first_response_minutes=None)`` removes
the target; leaving the keyword out keeps it). A name or shortcut already used answers 409; a
department or queue that still has conversations cannot be deleted (409: they keep their
history). Changing a queue's hours, strategy or members routes its waiting line after commit.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status as http

from core.exceptions import ApplicationError, ConflictError, NotFoundError
from queueing import hours, inbox_access, inbox_events
from queueing.models import (
    CannedResponse,
    Conversation,
    Department,
    QueueMember,
    RoutingStrategy,
    SupportQueue,
    SupportWidget,
    new_public_key,
)

MAX_ORIGINS = 20
MAX_PRIORITY = 1000
MAX_MINUTES = 60 * 24 * 60  # sixty days of business minutes
MAX_REQUEUE_SECONDS = 24 * 3600
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
COLOR = re.compile(r"^#[0-9a-f]{6}$")
QUEUE_FIELDS = frozenset(
    {
        "name",
        "priority",
        "routing_strategy",
        "time_zone",
        "weekly_hours",
        "holidays",
        "first_response_minutes",
        "resolution_minutes",
        "sla_warning_minutes",
        "requeue_after_seconds",
        "department_id",
    }
)
# Fields whose change may let waiting conversations be routed now.
ROUTING_FIELDS = frozenset({"routing_strategy", "time_zone", "weekly_hours", "holidays"})


def _invalid(code: str, message: str, **extra: Any) -> ApplicationError:
    return ApplicationError(
        message, code=code, extra=extra, status_code=http.HTTP_422_UNPROCESSABLE_ENTITY
    )


def _text(value: Any, *, field: str, max_length: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise _invalid("inbox.invalid_field", _("This field must be text."), field=field)
    text = " ".join(value.split()) if field != "body" else value.strip()
    if required and not text:
        raise _invalid("inbox.invalid_field", _("This field is required."), field=field)
    if len(text) > max_length:
        raise _invalid(
            "inbox.invalid_field",
            _("At most %(count)d characters.") % {"count": max_length},
            field=field,
            max_length=max_length,
        )
    return text


def _number(value: Any, *, field: str, maximum: int, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise _invalid(
            "inbox.invalid_field",
            _("A whole number from 0 to %(maximum)d.") % {"maximum": maximum},
            field=field,
            maximum=maximum,
        )
    return value


def _name_taken() -> ConflictError:
    return ConflictError(_("This name is already used."), code="inbox.name_taken")


def _routing_after_commit(queue_id: int) -> None:
    from queueing import tasks

    transaction.on_commit(lambda: tasks.route_waiting.delay(queue_id))


# --- Departments -----------------------------------------------------------------------------


def department_get(*, organization_id: int, department_id: int) -> Department:
    department = Department.objects.filter(
        pk=department_id, organization_id=organization_id
    ).first()
    if department is None:
        raise NotFoundError(_("Not found."), code="inbox.department_not_found")
    return department


@transaction.atomic
def department_create(
    *, actor: Any, organization_id: int, name: str, description: str = "", is_active: bool = True
) -> Department:
    """Create a department. Raises 403/404 for non-admins, ``inbox.invalid_field`` (422),
    ``inbox.name_taken`` (409)."""
    inbox_access.require_configure(actor, organization_id)
    department = Department(
        organization_id=organization_id,
        name=_text(name, field="name", max_length=80),
        description=_text(description, field="description", max_length=300, required=False),
        is_active=bool(is_active),
    )
    try:
        with transaction.atomic():
            department.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    return department


@transaction.atomic
def department_update(*, actor: Any, department: Department, **fields: Any) -> Department:
    """Change ``name``, ``description`` and/or ``is_active``. Raises as ``department_create``."""
    inbox_access.require_configure(actor, department.organization_id)
    unknown = set(fields) - {"name", "description", "is_active"}
    if unknown:
        raise TypeError(f"unknown department fields: {sorted(unknown)}")
    locked = Department.objects.select_for_update().get(pk=department.pk)
    if "name" in fields:
        locked.name = _text(fields["name"], field="name", max_length=80)
    if "description" in fields:
        locked.description = _text(
            fields["description"], field="description", max_length=300, required=False
        )
    if "is_active" in fields:
        if not isinstance(fields["is_active"], bool):
            raise _invalid("inbox.invalid_field", _("True or false."), field="is_active")
        locked.is_active = fields["is_active"]
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    return locked


@transaction.atomic
def department_delete(*, actor: Any, department: Department) -> None:
    """Delete a department and its queues; refused (409 ``inbox.department_in_use``) while
    any of its queues has conversations."""
    inbox_access.require_configure(actor, department.organization_id)
    if Conversation.objects.filter(queue__department_id=department.pk).exists():
        raise ConflictError(
            _("This department has conversations: deactivate it instead."),
            code="inbox.department_in_use",
        )
    department.delete()
    inbox_events.supervisor_changed(department.organization_id)


# --- Queues ----------------------------------------------------------------------------------


def queue_get(*, organization_id: int, queue_id: int) -> SupportQueue:
    queue = SupportQueue.objects.filter(pk=queue_id, organization_id=organization_id).first()
    if queue is None:
        raise NotFoundError(_("Not found."), code="inbox.queue_not_found")
    return queue


def _queue_fields(organization_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - QUEUE_FIELDS
    if unknown:
        raise TypeError(f"unknown queue fields: {sorted(unknown)}")
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            clean[key] = _text(value, field="name", max_length=80)
        elif key == "priority":
            clean[key] = _number(value, field=key, maximum=MAX_PRIORITY)
        elif key == "routing_strategy":
            if value not in RoutingStrategy.values:
                raise _invalid(
                    "inbox.invalid_field",
                    _("Unknown routing strategy."),
                    field=key,
                    allowed=list(RoutingStrategy.values),
                )
            clean[key] = value
        elif key == "time_zone":
            clean[key] = hours.validate_time_zone(value)
        elif key == "weekly_hours":
            clean[key] = hours.validate_weekly_hours(value)
        elif key == "holidays":
            clean[key] = hours.validate_holidays(value)
        elif key in ("first_response_minutes", "resolution_minutes"):
            minutes = _number(value, field=key, maximum=MAX_MINUTES, nullable=True)
            clean[key] = minutes or None  # 0 means no target, like empty
        elif key == "sla_warning_minutes":
            clean[key] = _number(value, field=key, maximum=MAX_MINUTES)
        elif key == "requeue_after_seconds":
            clean[key] = _number(value, field=key, maximum=MAX_REQUEUE_SECONDS)
        elif key == "department_id":
            clean[key] = department_get(organization_id=organization_id, department_id=value).pk
    return clean


@transaction.atomic
def queue_create(
    *, actor: Any, organization_id: int, department_id: int, name: str, **fields: Any
) -> SupportQueue:
    """Create a queue in a department of the organization.

    ``fields``: priority, routing_strategy, time_zone, weekly_hours, holidays (validated by
    ``queueing.hours``: 400 ``inbox.invalid_hours``), first_response_minutes,
    resolution_minutes, sla_warning_minutes, requeue_after_seconds. Raises 403/404 for
    non-admins, ``inbox.department_not_found``, ``inbox.invalid_field`` (422),
    ``inbox.name_taken`` (409).
    """
    inbox_access.require_configure(actor, organization_id)
    clean = _queue_fields(organization_id, {**fields, "name": name, "department_id": department_id})
    queue = SupportQueue(organization_id=organization_id, **clean)
    try:
        with transaction.atomic():
            queue.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    inbox_events.supervisor_changed(organization_id)
    return queue


@transaction.atomic
def queue_update(*, actor: Any, queue: SupportQueue, **fields: Any) -> SupportQueue:
    """Change the given fields of a queue (see ``queue_create``); a change of hours or
    strategy routes its waiting line after commit."""
    inbox_access.require_configure(actor, queue.organization_id)
    clean = _queue_fields(queue.organization_id, fields)
    locked = SupportQueue.objects.select_for_update().get(pk=queue.pk)
    changed = {key for key, value in clean.items() if getattr(locked, key) != value}
    for key in changed:
        setattr(locked, key, clean[key])
    if not changed:
        return locked
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _name_taken() from exc
    if changed & ROUTING_FIELDS:
        _routing_after_commit(locked.pk)
    inbox_events.supervisor_changed(locked.organization_id)
    return locked


@transaction.atomic
def queue_delete(*, actor: Any, queue: SupportQueue) -> None:
    """Delete a queue; refused (409 ``inbox.queue_in_use``) while it has conversations."""
    inbox_access.require_configure(actor, queue.organization_id)
    if Conversation.objects.filter(queue_id=queue.pk).exists():
        raise ConflictError(
            _("This queue has conversations: it cannot be deleted."), code="inbox.queue_in_use"
        )
    queue.delete()
    inbox_events.supervisor_changed(queue.organization_id)


@transaction.atomic
def queue_member_add(
    *, actor: Any, queue: SupportQueue, user_id: int, is_supervisor: bool = False
) -> QueueMember:
    """Make an org agent or admin serve the queue (or change their supervisor flag).

    Creates their agent row if needed; routes the queue's waiting line after commit (the new
    member may take some). Raises 403/404 for non-admins, ``inbox.agent_not_found``.
    """
    from queueing.agents import agent_get_or_create

    inbox_access.require_configure(actor, queue.organization_id)
    if not isinstance(is_supervisor, bool):
        raise _invalid("inbox.invalid_field", _("True or false."), field="is_supervisor")
    agent_get_or_create(organization_id=queue.organization_id, user_id=user_id)
    member, created = QueueMember.objects.get_or_create(
        queue=queue, user_id=user_id, defaults={"is_supervisor": is_supervisor}
    )
    if not created and member.is_supervisor != is_supervisor:
        member.is_supervisor = is_supervisor
        member.save(update_fields=["is_supervisor", "updated_at"])
    if created:
        _routing_after_commit(queue.pk)
    return member


@transaction.atomic
def queue_member_remove(*, actor: Any, queue: SupportQueue, user_id: int) -> None:
    """Stop a user serving the queue (conversations assigned to them stay theirs). Raises
    403/404 for non-admins, 404 ``inbox.member_not_found``."""
    inbox_access.require_configure(actor, queue.organization_id)
    deleted, _rows = QueueMember.objects.filter(queue=queue, user_id=user_id).delete()
    if not deleted:
        raise NotFoundError(_("Not found."), code="inbox.member_not_found")


# --- Canned responses ------------------------------------------------------------------------


def canned_get(*, organization_id: int, canned_id: int) -> CannedResponse:
    canned = CannedResponse.objects.filter(pk=canned_id, organization_id=organization_id).first()
    if canned is None:
        raise NotFoundError(_("Not found."), code="inbox.not_found")
    return canned


def _shortcut(value: Any) -> str:
    shortcut = value.strip().lstrip("/").lower() if isinstance(value, str) else ""
    if not SHORTCUT.match(shortcut):
        raise _invalid(
            "inbox.invalid_shortcut",
            _("A shortcut is up to 40 letters, digits, - or _ (like greeting)."),
        )
    return shortcut


def _shortcut_taken() -> ConflictError:
    return ConflictError(_("This shortcut is already used."), code="inbox.shortcut_taken")


@transaction.atomic
def canned_create(
    *, actor: Any, organization_id: int, shortcut: str, title: str, body: str
) -> CannedResponse:
    """Save a reply agents insert by typing ``/shortcut``. Raises 403/404 for non-admins,
    ``inbox.invalid_shortcut`` / ``inbox.invalid_field`` (422), ``inbox.shortcut_taken`` (409)."""
    inbox_access.require_configure(actor, organization_id)
    canned = CannedResponse(
        organization_id=organization_id,
        shortcut=_shortcut(shortcut),
        title=_text(title, field="title", max_length=100),
        body=_text(body, field="body", max_length=4000),
        created_by_id=actor.pk,
    )
    try:
        with transaction.atomic():
            canned.save()
    except IntegrityError as exc:
        raise _shortcut_taken() from exc
    return canned


@transaction.atomic
def canned_update(*, actor: Any, canned: CannedResponse, **fields: Any) -> CannedResponse:
    """Change ``shortcut``, ``title`` and/or ``body``; raises as ``canned_create``."""
    inbox_access.require_configure(actor, canned.organization_id)
    unknown = set(fields) - {"shortcut", "title", "body"}
    if unknown:
        raise TypeError(f"unknown canned response fields: {sorted(unknown)}")
    locked = CannedResponse.objects.select_for_update().get(pk=canned.pk)
    if "shortcut" in fields:
        locked.shortcut = _shortcut(fields["shortcut"])
    if "title" in fields:
        locked.title = _text(fields["title"], field="title", max_length=100)
    if "body" in fields:
        locked.body = _text(fields["body"], field="body", max_length=4000)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise _shortcut_taken() from exc
    return locked


@transaction.atomic
def canned_delete(*, actor: Any, canned: CannedResponse) -> None:
    inbox_access.require_configure(actor, canned.organization_id)
    canned.delete()


# --- Widget ----------------------------------------------------------------------------------


def origins_validate(value: Any) -> list[str]:
    """Origins as ``scheme://host[:port]``, lower-case, http(s), no path, query or user; a
    trailing ``/`` is dropped; duplicates removed (first kept); at most MAX_ORIGINS.

    Raises ``inbox.invalid_origins`` (422, ``extra.index`` of the bad entry)."""
    if not isinstance(value, (list, tuple)):
        raise _invalid("inbox.invalid_origins", _("Allowed origins are a list of addresses."))
    if len(value) > MAX_ORIGINS:
        raise _invalid(
            "inbox.invalid_origins",
            _("At most %(count)d origins.") % {"count": MAX_ORIGINS},
            max_origins=MAX_ORIGINS,
        )
    result: list[str] = []
    for index, item in enumerate(value):
        origin = _origin(item)
        if origin is None:
            raise _invalid(
                "inbox.invalid_origins",
                _("Each origin is like https://www.example.com (no path)."),
                index=index,
            )
        if origin not in result:
            result.append(origin)
    return result


def _origin(item: Any) -> str | None:
    if not isinstance(item, str):
        return None
    text = item.strip().lower()
    if text.endswith("/"):
        text = text[:-1]
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
        or not re.match(r"^[a-z0-9.-]+$|^\[[0-9a-f:]+\]$", parts.netloc.rsplit(":", 1)[0])
    ):
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    netloc = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if port is not None and port != default_port:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


def widget_get_or_create(*, organization_id: int) -> SupportWidget:
    """The organization's widget, created (enabled, no origins) the first time it is asked."""
    widget, _created = SupportWidget.objects.get_or_create(organization_id=organization_id)
    return widget


@transaction.atomic
def widget_update(*, actor: Any, organization_id: int, **fields: Any) -> SupportWidget:
    """Change ``allowed_origins``, ``enabled``, ``title``, ``greeting``, ``color``
    (``#rrggbb``) and/or ``offline_email``. Raises 403/404 for non-admins,
    ``inbox.invalid_origins``, ``inbox.invalid_field`` (422)."""
    inbox_access.require_configure(actor, organization_id)
    unknown = set(fields) - {
        "allowed_origins",
        "enabled",
        "title",
        "greeting",
        "color",
        "offline_email",
    }
    if unknown:
        raise TypeError(f"unknown widget fields: {sorted(unknown)}")
    widget = widget_get_or_create(organization_id=organization_id)
    widget = SupportWidget.objects.select_for_update().get(pk=widget.pk)
    if "allowed_origins" in fields:
        widget.allowed_origins = origins_validate(fields["allowed_origins"])
    if "enabled" in fields:
        if not isinstance(fields["enabled"], bool):
            raise _invalid("inbox.invalid_field", _("True or false."), field="enabled")
        widget.enabled = fields["enabled"]
    if "title" in fields:
        widget.title = _text(fields["title"], field="title", max_length=80, required=False)
    if "greeting" in fields:
        widget.greeting = _text(
            fields["greeting"], field="greeting", max_length=300, required=False
        )
    if "color" in fields:
        color = fields["color"].strip().lower() if isinstance(fields["color"], str) else ""
        if not COLOR.match(color):
            raise _invalid("inbox.invalid_field", _("A colour like #0f766e."), field="color")
        widget.color = color
    if "offline_email" in fields:
        email = (fields["offline_email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise _invalid(
                    "inbox.invalid_field", _("Enter a valid email address."), field="offline_email"
                ) from exc
        widget.offline_email = email
    widget.save()
    return widget


@transaction.atomic
def widget_rotate_key(*, actor: Any, organization_id: int) -> SupportWidget:
    """Give the widget a new public key: pages with the old one stop working at once."""
    inbox_access.require_configure(actor, organization_id)
    widget = widget_get_or_create(organization_id=organization_id)
    widget = SupportWidget.objects.select_for_update().get(pk=widget.pk)
    widget.public_key = new_public_key()
    widget.save(update_fields=["public_key", "updated_at"])
    return widget


def widget_embed_snippet(widget: SupportWidget, *, base_url: str) -> str:
    """The ``<script>`` tag an organization pastes into its pages."""
    return (
        f'<script src="{base_url.rstrip("/")}/static/widget/widget.js" '
        f'data-key="{widget.public_key}" async></script>'
    )
