from __future__ import annotations

import pytest

from realtime import registry


def allow(user: object, key: str) -> bool:
    return True


def test_it_resolves_a_registered_topic_into_its_check_and_key() -> None:
    registry.register_topic("tests.widget", check=allow)

    resolved = registry.resolve("tests.widget.42")

    assert resolved is not None
    topic, key = resolved
    assert (topic.prefix, key, topic.check, topic.group(key)) == (
        "tests.widget",
        "42",
        allow,
        "tests.widget.42",
    )


@pytest.mark.parametrize(
    "name",
    [
        "tests.unknown.1",
        "tests.widget.",
        "tests.widget.4 2",
        "tests.widget.a/b",
        "tests.widget." + "9" * 41,
        "widget",
        "",
    ],
)
def test_it_resolves_nothing_for_unknown_or_malformed_topics(name: str) -> None:
    registry.register_topic("tests.widget", check=allow)

    assert registry.resolve(name) is None


@pytest.mark.parametrize("prefix", ["widget", "Tests.widget", "tests..widget", "tests.widget!"])
def test_it_refuses_a_prefix_that_is_not_app_dot_entity(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"must look like 'app\.entity'"):
        registry.register_topic(prefix, check=allow)


def test_it_refuses_to_register_one_prefix_with_two_checks() -> None:
    registry.register_topic("tests.gadget", check=allow)

    with pytest.raises(ValueError, match="already registered"):
        registry.register_topic("tests.gadget", check=lambda user, key: False)


def test_the_accounts_app_registers_its_organization_topic() -> None:
    resolved = registry.resolve("accounts.organization.7")

    assert resolved is not None and resolved[0].prefix == "accounts.organization"
