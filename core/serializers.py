"""Serializer building blocks shared by every app's API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictInputMixin:
    """Refuse fields the serializer does not know instead of silently ignoring them.

    A typo in a write (``"rol"`` for ``"role"``) would otherwise succeed and change nothing,
    which is worse than an error.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class InputSerializer(StrictInputMixin, serializers.Serializer):
    """Base for the nested input serializers of command views."""


class ModelInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base for model-shaped input serializers."""
