"""The filters of every CRM list, board, saved view and export, written once.

A filter set is a plain JSON-able dict (what a saved view stores). ``clean_filters`` checks
and normalizes one (ids as ints, labels as a list, ISO dates, booleans), refusing anything
unknown or malformed with 422 ``crm.invalid_filter`` ``{"field": key}``;
``filters_from_query`` builds one from a request's query string (repeatable ``label``; other
query parameters such as ``page`` or ``cursor`` are left alone); ``apply_filters`` narrows a
queryset with it.

Keys by records:

- deals: ``pipeline``, ``stage``, ``owner`` (an id or ``"me"``), ``label`` (ids, any of),
  ``status``, ``value_min``/``value_max`` (centavos), ``created_from``/``created_to``,
  ``close_from``/``close_to`` (expected close date), ``q`` (title or contact name),
  ``cf.<key>`` (custom field equals) and, for number and date fields,
  ``cf.<key>__min``/``cf.<key>__max``.
- contacts, companies, leads: ``owner``, ``label``, ``source``, ``q``,
  ``created_from``/``created_to``; leads also ``status``.
- tasks: ``assignee`` (an id or ``"me"``), ``done``, ``due_from``/``due_to``, ``overdue``,
  and ``deal``/``contact``/``lead`` (the tasks of one record), ``q`` (title).

``"me"`` stays symbolic in a stored filter set (a saved view means "whoever looks at it") and
is resolved when the filters are applied.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import (
    Company,
    Contact,
    CustomField,
    CustomFieldKind,
    Deal,
    DealStatus,
    Lead,
    LeadStatus,
    Task,
)

Filters = dict[str, Any]
M = TypeVar("M", bound=Model)

ENTITIES = ("deals", "contacts", "companies", "leads", "tasks")
ME = "me"
CUSTOM_PREFIX = "cf."
# A custom field key (a slug) with an optional range suffix.
CUSTOM_KEY = re.compile(r"^cf\.(?P<key>[-a-zA-Z0-9_]{1,40}?)(?P<bound>__min|__max)?$")
Q_MAX_LENGTH = 100

# key -> kind of value
_PEOPLE_RECORDS = {
    "owner": "user",
    "label": "ids",
    "source": "text",
    "q": "text",
    "created_from": "date",
    "created_to": "date",
}
KEYS: dict[str, dict[str, str]] = {
    "deals": {
        "pipeline": "id",
        "stage": "id",
        "owner": "user",
        "label": "ids",
        "status": "deal_status",
        "value_min": "centavos",
        "value_max": "centavos",
        "created_from": "date",
        "created_to": "date",
        "close_from": "date",
        "close_to": "date",
        "q": "text",
    },
    "contacts": dict(_PEOPLE_RECORDS),
    "companies": dict(_PEOPLE_RECORDS),
    "leads": {**_PEOPLE_RECORDS, "status": "lead_status"},
    "tasks": {
        "assignee": "user",
        "done": "bool",
        "due_from": "moment",
        "due_to": "moment",
        "overdue": "bool",
        "deal": "id",
        "contact": "id",
        "lead": "id",
        "q": "text",
    },
}
REPEATABLE = frozenset({"label"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def invalid_filter(field: str) -> ApplicationError:
    return ApplicationError(
        _("This filter is not valid."),
        code="crm.invalid_filter",
        extra={"field": field},
        status_code=422,
    )


# --- Cleaning --------------------------------------------------------------------------------


def _clean_id(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise invalid_filter(field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise invalid_filter(field)
    if number <= 0:
        raise invalid_filter(field)
    return number


def _clean_value(field: str, kind: str, value: Any) -> Any:
    if kind == "id":
        return _clean_id(field, value)
    if kind == "user":
        if isinstance(value, str) and value.strip().lower() == ME:
            return ME
        return _clean_id(field, value)
    if kind == "ids":
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            raise invalid_filter(field)
        ids: list[int] = []
        for item in values:
            # "1,2" in a query string is as good as label=1&label=2.
            parts = item.split(",") if isinstance(item, str) else [item]
            for part in parts:
                number = _clean_id(field, part)
                if number not in ids:
                    ids.append(number)
        return ids
    if kind == "text":
        if not isinstance(value, str) or len(value) > Q_MAX_LENGTH:
            raise invalid_filter(field)
        return value.strip()
    if kind == "centavos":
        if isinstance(value, bool):
            raise invalid_filter(field)
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\d{1,15}", value.strip()):
            number = int(value.strip())
        else:
            raise invalid_filter(field)
        if number < 0:
            raise invalid_filter(field)
        return number
    if kind == "date":
        if not isinstance(value, str):
            raise invalid_filter(field)
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise invalid_filter(field)
        return parsed.isoformat()
    if kind == "moment":
        # A day ("2025-03-01": that whole day, in the current time zone) or an instant.
        if not isinstance(value, str):
            raise invalid_filter(field)
        text = value.strip()
        try:
            day = parse_date(text)
            instant = None if day else parse_datetime(text)
        except ValueError:
            day = instant = None
        if day is not None:
            return day.isoformat()
        if instant is None:
            raise invalid_filter(field)
        if timezone.is_naive(instant):
            instant = timezone.make_aware(instant)
        return instant.isoformat()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        raise invalid_filter(field)
    if kind == "deal_status":
        if value not in DealStatus.values:
            raise invalid_filter(field)
        return value
    if kind == "lead_status":
        if value not in LeadStatus.values:
            raise invalid_filter(field)
        return value
    raise AssertionError(f"unknown filter kind {kind}")


def _clean_custom(field: str, value: Any) -> Any:
    match = CUSTOM_KEY.match(field)
    if match is None:
        raise invalid_filter(field)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid_filter(field)
    if isinstance(value, str):
        value = value.strip()
        if len(value) > Q_MAX_LENGTH:
            raise invalid_filter(field)
    # A range is over numbers or dates: "12.5", "2025-03-01".
    is_range_text = match.group("bound") and isinstance(value, str)
    if is_range_text and _as_number(value) is None and parse_date_safe(str(value)) is None:
        raise invalid_filter(field)
    return value


def parse_date_safe(text: str) -> datetime.date | None:
    try:
        return parse_date(text)
    except ValueError:
        return None


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and "." not in str(value) else number


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_filters(entity: str, raw: Any) -> Filters:
    """The filter set checked and normalized (JSON-able, what a saved view stores).

    Empty values are dropped. An unknown key, a key another kind of records does not have or
    a malformed value raises 422 ``crm.invalid_filter`` with ``{"field": key}``.
    """
    if entity not in KEYS:
        raise invalid_filter("entity")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid_filter("filters")
    keys = KEYS[entity]
    cleaned: Filters = {}
    for field, value in raw.items():
        if not isinstance(field, str):
            raise invalid_filter(str(field))
        if _is_empty(value):
            continue
        if entity == "deals" and field.startswith(CUSTOM_PREFIX):
            cleaned[field] = _clean_custom(field, value)
            continue
        kind = keys.get(field)
        if kind is None:
            raise invalid_filter(field)
        if field not in REPEATABLE and isinstance(value, list | tuple):
            raise invalid_filter(field)
        result = _clean_value(field, kind, value)
        if not _is_empty(result):
            cleaned[field] = result
    return cleaned


def filters_from_query(entity: str, query_params: Any, *, user: Any = None) -> Filters:
    """The filter set a query string asks for (``?owner=me&label=3&label=4&cf.size__min=10``).

    Parameters that are not filters (``page``, ``cursor``, ``view``...) are ignored; filter
    parameters are checked as in ``clean_filters``. With ``user``, ``"me"`` becomes their id.
    """
    if entity not in KEYS:
        raise invalid_filter("entity")
    keys = KEYS[entity]
    raw: Filters = {}
    for field in query_params:
        if field in REPEATABLE and hasattr(query_params, "getlist"):
            raw[field] = [item for item in query_params.getlist(field) if item != ""]
        elif field in keys or (entity == "deals" and field.startswith(CUSTOM_PREFIX)):
            value = query_params.get(field)
            raw[field] = value
    cleaned = clean_filters(entity, raw)
    if user is not None and getattr(user, "is_authenticated", False):
        for field in ("owner", "assignee"):
            if cleaned.get(field) == ME:
                cleaned[field] = user.pk
    return cleaned


# --- Applying --------------------------------------------------------------------------------


def _user_id(field: str, value: Any, user: Any) -> int:
    if value != ME:
        return int(value)
    if user is None or not getattr(user, "is_authenticated", False):
        raise invalid_filter(field)
    return int(user.pk)


def _labelled(model: type[Model], label_ids: list[int]) -> Q:
    """Records with any of the labels, through a subquery (no join, so no duplicate rows)."""
    through = model._meta.get_field("labels").remote_field.through  # type: ignore[union-attr]
    column = f"{model._meta.model_name}_id"
    return Q(pk__in=through.objects.filter(label_id__in=label_ids).values(column))


def _created(filters: Filters) -> Q:
    condition = Q()
    if "created_from" in filters:
        condition &= Q(created_at__date__gte=filters["created_from"])
    if "created_to" in filters:
        condition &= Q(created_at__date__lte=filters["created_to"])
    return condition


def _moment(field: str, value: str, op: str) -> Q:
    day = parse_date_safe(value)
    if day is not None:
        return Q(**{f"{field}__date__{op}": day})
    instant = parse_datetime(value)
    return Q(**{f"{field}__{op}": instant})


def _custom_field_kinds(organization_id: int, filters: Filters, keys: set[str]) -> dict[str, str]:
    """The kind of each filtered custom field key, from the pipeline filtered on (or any
    pipeline of the organization defining it)."""
    fields = CustomField.objects.filter(pipeline__organization_id=organization_id, key__in=keys)
    if "pipeline" in filters:
        fields = fields.filter(pipeline_id=filters["pipeline"])
    kinds: dict[str, str] = {}
    for key, kind in fields.order_by("pipeline_id", "id").values_list("key", "kind"):
        kinds.setdefault(key, kind)
    return kinds


def _custom(organization_id: int, filters: Filters) -> tuple[dict[str, Any], Q] | None:
    """The aliases and conditions of the custom field filters; None when one cannot match
    anything (no pipeline defines the key, or the value is of the wrong kind)."""
    wanted: list[tuple[str, str | None, Any]] = []
    for field, value in sorted(filters.items()):
        match = CUSTOM_KEY.match(field) if field.startswith(CUSTOM_PREFIX) else None
        if match is not None:
            wanted.append((match.group("key"), match.group("bound"), value))
    if not wanted:
        return {}, Q()
    kinds = _custom_field_kinds(organization_id, filters, {key for key, _b, _v in wanted})
    aliases: dict[str, Any] = {}
    condition = Q()
    for index, (key, bound, value) in enumerate(wanted):
        kind = kinds.get(key)
        if kind is None:
            return None
        op = {"__min": "__gte", "__max": "__lte", None: ""}[bound]
        if kind == CustomFieldKind.NUMBER:
            number = _as_number(value)
            if number is None:
                return None
            # Stored as JSON numbers: compared as numbers on both databases.
            condition &= Q(**{f"custom_fields__{key}{op}": number})
            continue
        text = str(value)
        if kind == CustomFieldKind.DATE and parse_date_safe(text) is None:
            return None
        # Text, choices and dates ("YYYY-MM-DD", which sorts as text in date order) are
        # compared as the key's text (cast, so the JSON lookups do not parse the value).
        alias = f"custom_filter_{index}"
        aliases[alias] = Cast(KT(f"custom_fields__{key}"), TextField())
        condition &= Q(**{f"{alias}{op}": text})
    return aliases, condition


def apply_filters(
    entity: str,
    queryset: QuerySet[M],
    filters: Filters | None,
    *,
    organization_id: int,
    user: Any = None,
) -> QuerySet[M]:
    """``queryset`` narrowed to the organization and the (cleaned) filters.

    ``user`` resolves ``"me"`` (without one, ``"me"`` is 422 ``crm.invalid_filter``). A custom
    field no pipeline of the organization defines, or a value of the wrong kind for it,
    matches nothing. Adds no joins that could repeat rows (labels go through a subquery).
    """
    filters = filters or {}
    if entity not in KEYS:
        raise invalid_filter("entity")
    queryset = queryset.filter(organization_id=organization_id)
    condition = Q()
    if entity == "deals":
        condition &= _deal_conditions(filters, user)
        custom = _custom(organization_id, filters)
        if custom is None:
            return queryset.none()
        aliases, custom_condition = custom
        if aliases:
            queryset = queryset.alias(**aliases)
        condition &= custom_condition
    elif entity == "tasks":
        condition &= _task_conditions(filters, user)
    else:
        condition &= _people_conditions(entity, filters, user)
    return queryset.filter(condition)


def _deal_conditions(filters: Filters, user: Any) -> Q:
    condition = Q()
    if "pipeline" in filters:
        condition &= Q(pipeline_id=filters["pipeline"])
    if "stage" in filters:
        condition &= Q(stage_id=filters["stage"])
    if "owner" in filters:
        condition &= Q(owner_id=_user_id("owner", filters["owner"], user))
    if "label" in filters:
        condition &= _labelled(Deal, filters["label"])
    if "status" in filters:
        condition &= Q(status=filters["status"])
    if "value_min" in filters:
        condition &= Q(value__gte=filters["value_min"])
    if "value_max" in filters:
        condition &= Q(value__lte=filters["value_max"])
    condition &= _created(filters)
    if "close_from" in filters:
        condition &= Q(expected_close_date__gte=filters["close_from"])
    if "close_to" in filters:
        condition &= Q(expected_close_date__lte=filters["close_to"])
    if filters.get("q"):
        text = filters["q"]
        condition &= Q(title__icontains=text) | Q(contact__name__icontains=text)
    return condition


SEARCHED = {
    "contacts": ("name", "email", "phone"),
    "companies": ("name", "domain"),
    "leads": ("name", "email", "phone", "company_name"),
}
MODELS: dict[str, type[Model]] = {
    "contacts": Contact,
    "companies": Company,
    "leads": Lead,
    "deals": Deal,
    "tasks": Task,
}


def _people_conditions(entity: str, filters: Filters, user: Any) -> Q:
    condition = Q()
    if "owner" in filters:
        condition &= Q(owner_id=_user_id("owner", filters["owner"], user))
    if "label" in filters:
        condition &= _labelled(MODELS[entity], filters["label"])
    if "source" in filters:
        condition &= Q(source__iexact=filters["source"])
    if "status" in filters:
        condition &= Q(status=filters["status"])
    condition &= _created(filters)
    if filters.get("q"):
        text = filters["q"]
        search = Q()
        for field in SEARCHED[entity]:
            search |= Q(**{f"{field}__icontains": text})
        condition &= search
    return condition


def _task_conditions(filters: Filters, user: Any) -> Q:
    condition = Q()
    if "assignee" in filters:
        condition &= Q(assignee_id=_user_id("assignee", filters["assignee"], user))
    if "done" in filters:
        condition &= Q(done_at__isnull=not filters["done"])
    if "due_from" in filters:
        condition &= _moment("due_at", filters["due_from"], "gte")
    if "due_to" in filters:
        condition &= _moment("due_at", filters["due_to"], "lte")
    if "overdue" in filters:
        overdue = Q(done_at__isnull=True, due_at__lt=timezone.now())
        condition &= overdue if filters["overdue"] else ~overdue
    for record in ("deal", "contact", "lead"):
        if record in filters:
            condition &= Q(**{f"{record}_id": filters[record]})
    if filters.get("q"):
        condition &= Q(title__icontains=filters["q"])
    return condition
