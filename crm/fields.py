"""Custom field values of deals: checked against the fields their pipeline defines.

Values are stored in ``Deal.custom_fields`` as JSON, by field key: text as a string (at most
TEXT_MAX_LENGTH characters), number as an int or float (never a bool), date as "YYYY-MM-DD",
choice as one of the field's ``choices``.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import status

from core.exceptions import ApplicationError
from crm.models import CustomField, CustomFieldKind, Pipeline

TEXT_MAX_LENGTH = 1000


def _invalid(message: str, code: str, extra: dict[str, Any]) -> ApplicationError:
    return ApplicationError(
        message, code=code, extra=extra, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY
    )


def _clean_value(field: CustomField, value: Any) -> Any:
    """The stored form of ``value`` for ``field``; None for an empty value (clears it)."""
    if value is None:
        return None
    kind = field.kind
    wrong = _invalid(
        _("%(label)s: this value does not fit the field.") % {"label": field.label},
        "crm.invalid_custom_field",
        {"field": field.key, "kind": kind},
    )
    if kind == CustomFieldKind.TEXT:
        if not isinstance(value, str) or len(value) > TEXT_MAX_LENGTH:
            raise wrong
        return value if value.strip() else None
    if kind == CustomFieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        if isinstance(value, float) and not math.isfinite(value):
            raise wrong
        return value
    if kind == CustomFieldKind.DATE:
        if isinstance(value, datetime.datetime):
            raise wrong
        if isinstance(value, datetime.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise wrong
        if value == "":
            return None
        try:
            parsed = datetime.date.fromisoformat(value)
        except ValueError:
            raise wrong from None
        if parsed.isoformat() != value:
            # fromisoformat also takes "20250102" and week dates; store one spelling only.
            raise wrong
        return value
    if kind == CustomFieldKind.CHOICE:
        if value == "":
            return None
        if not isinstance(value, str) or value not in (field.choices or []):
            raise wrong
        return value
    raise wrong


def clean_custom_fields(pipeline: Pipeline, values: Any, *, partial: bool) -> dict[str, Any]:
    """Check ``values`` against ``pipeline``'s custom fields; the values to store.

    Unknown key: 422 ``crm.unknown_custom_field`` (extra ``{"field"}``); a value of the wrong
    type: 422 ``crm.invalid_custom_field`` (extra ``{"field", "kind"}``); a required field
    missing or cleared: 422 ``crm.custom_field_required`` (extra ``{"field"}``).

    Not ``partial`` (a new deal): every required field must have a value; the result holds
    only fields with a value. ``partial`` (an edit merged into the stored values): only the
    given keys are checked, and a key mapped to None (or an empty text) means "clear it".
    One query (the pipeline's fields).
    """
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise _invalid(
            _("Custom fields must be an object of field keys to values."),
            "crm.invalid_custom_field",
            {"field": None, "kind": None},
        )
    fields = {field.key: field for field in CustomField.objects.filter(pipeline=pipeline)}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            raise _invalid(
                _("This pipeline has no custom field %(key)s.") % {"key": key},
                "crm.unknown_custom_field",
                {"field": key},
            )
        cleaned[key] = _clean_value(field, value)
    for key, field in sorted(fields.items(), key=lambda item: (item[1].order, item[1].pk)):
        if not field.required:
            continue
        missing = cleaned.get(key) is None if (not partial or key in cleaned) else False
        if missing:
            raise _invalid(
                _("%(label)s is required.") % {"label": field.label},
                "crm.custom_field_required",
                {"field": key},
            )
    if partial:
        return cleaned
    return {key: value for key, value in cleaned.items() if value is not None}
