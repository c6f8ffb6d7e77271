"""Choose an outside-service adapter by a dotted path named in settings.

``settings.PROVIDERS = {"accounts.sms": "accounts.providers.sandbox.SandboxSms"}`` and
``load_provider("accounts.sms")`` returns an instance of that class. Tests swap adapters
with ``override_settings``; instances are cached per dotted path, not per name, so a swap
takes effect at once.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


@cache
def _instance(dotted_path: str) -> Any:
    try:
        provider_class = import_string(dotted_path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Provider {dotted_path!r} cannot be imported.") from exc
    return provider_class()


def load_provider(name: str) -> Any:
    """Return the configured adapter for ``name``; ImproperlyConfigured if there is none."""
    try:
        dotted_path = settings.PROVIDERS[name]
    except KeyError as exc:
        raise ImproperlyConfigured(f"No provider is configured for {name!r}.") from exc
    return _instance(dotted_path)
