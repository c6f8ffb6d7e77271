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


# --- socket hooks ------------------------------------------------------------------------------


async def echo(context: registry.ActionContext, frame: dict[str, object]) -> None:
    await context.reply("tests.echo", {"frame": frame})


@pytest.mark.parametrize("name", ["subscribe", "unsubscribe", "ping", "Echo", "1echo", "a b", ""])
def test_it_refuses_an_action_name_that_is_reserved_or_malformed(name: str) -> None:
    with pytest.raises(ValueError, match="reserved or malformed"):
        registry.register_action(name, echo)


def test_it_keeps_one_handler_per_action() -> None:
    registry.register_action("tests.registry_echo", echo)
    registry.register_action("tests.registry_echo", echo)  # ready() may run twice

    with pytest.raises(ValueError, match="already registered"):
        registry.register_action("tests.registry_echo", lambda context, frame: None)
    assert registry.action_handler("tests.registry_echo") is echo
    assert registry.action_handler("tests.nothing_here") is None


def test_registering_the_same_connection_listener_twice_keeps_one() -> None:
    def opened(user_id: int, channel_name: str) -> None:
        pass

    def closed(user_id: int, channel_name: str) -> None:
        pass

    before = len(registry.connection_listeners())
    registry.register_connection_listener(opened, closed)
    registry.register_connection_listener(opened, closed)

    listeners = registry.connection_listeners()
    assert len(listeners) == before + 1
    assert (listeners[-1].on_connect, listeners[-1].on_disconnect) == (opened, closed)


def test_the_chat_app_registers_its_socket_hooks() -> None:
    # realtime imports no app; the chat app plugs presence and typing in from ready().
    from chat import socket

    assert registry.action_handler("heartbeat") is socket.heartbeat
    assert registry.action_handler("typing") is socket.typing
    assert (socket.on_connect, socket.on_disconnect) in [
        (listener.on_connect, listener.on_disconnect)
        for listener in registry.connection_listeners()
    ]
