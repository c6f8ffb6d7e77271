from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.providers import load_provider


class FirstAdapter:
    pass


class SecondAdapter:
    pass


def test_it_loads_the_adapter_named_in_settings(settings: Any) -> None:
    settings.PROVIDERS = {"core.example": "core.tests.test_providers.FirstAdapter"}

    assert isinstance(load_provider("core.example"), FirstAdapter)


def test_it_returns_the_same_instance_for_the_same_adapter(settings: Any) -> None:
    settings.PROVIDERS = {"core.example": "core.tests.test_providers.FirstAdapter"}

    assert load_provider("core.example") is load_provider("core.example")


def test_changing_the_setting_switches_the_adapter_at_once(settings: Any) -> None:
    settings.PROVIDERS = {"core.example": "core.tests.test_providers.FirstAdapter"}
    load_provider("core.example")

    settings.PROVIDERS = {"core.example": "core.tests.test_providers.SecondAdapter"}

    assert isinstance(load_provider("core.example"), SecondAdapter)


def test_a_provider_that_is_not_configured_is_a_configuration_error(settings: Any) -> None:
    settings.PROVIDERS = {}

    with pytest.raises(ImproperlyConfigured, match=r"No provider is configured for 'core\.sms'\."):
        load_provider("core.sms")


def test_a_dotted_path_that_does_not_import_is_a_configuration_error(settings: Any) -> None:
    settings.PROVIDERS = {"core.example": "core.tests.nowhere.Adapter"}

    with pytest.raises(ImproperlyConfigured, match="cannot be imported"):
        load_provider("core.example")
