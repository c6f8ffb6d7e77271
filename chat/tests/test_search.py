"""Message search: what a person may find, filters, safe headlines, and both databases."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.utils import timezone

from accounts.models import User
from chat import search
from chat.models import Message, Room, RoomKind
from chat.search import message_search
from chat.tests.helpers import Team, assert_error, channel, client_for, direct, send, team
from core.exceptions import ApplicationError, NotFoundError

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="full-text search with the Portuguese configuration exists on PostgreSQL only",
)
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the substring fallback runs on SQLite only"
)


@pytest.fixture
def world() -> Team:
    return team()


def found(user: User, world: Team, query: str, **filters: Any) -> list[str]:
    messages = message_search(
        user=user, organization_id=world.organization.pk, query=query, **filters
    )
    return [message.body for message in messages]


def search_url(organization_id: int, **params: Any) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/v1/organizations/{organization_id}/chat/search/?{query}"


def at(message: Message, moment: datetime.datetime) -> Message:
    Message.objects.filter(pk=message.pk).update(created_at=moment)
    message.created_at = moment
    return message


# --- What may be found ---------------------------------------------------------------------


def test_messages_of_my_rooms_and_of_public_channels_are_found(world: Team) -> None:
    joined = channel(world.organization, owner=world.agent, members=[world.agent2])
    not_joined = channel(world.organization, owner=world.admin)
    mine_private = channel(
        world.organization, owner=world.admin, members=[world.agent], kind=RoomKind.PRIVATE
    )
    dm = direct(world.organization, world.agent, world.agent2)
    send(joined, world.agent2, "cliente pediu reembolso no canal")
    send(not_joined, world.admin, "cliente pediu reembolso no canal aberto")
    send(mine_private, world.admin, "cliente pediu reembolso no privado")
    send(dm, world.agent2, "cliente pediu reembolso na conversa")

    results = found(world.agent, world, "reembolso")

    assert sorted(results) == [
        "cliente pediu reembolso na conversa",
        "cliente pediu reembolso no canal",
        "cliente pediu reembolso no canal aberto",
        "cliente pediu reembolso no privado",
    ]


def test_a_private_room_or_a_dm_i_am_not_in_is_never_searched(world: Team) -> None:
    private = channel(world.organization, owner=world.admin, kind=RoomKind.PRIVATE)
    others_dm = direct(world.organization, world.admin, world.agent2)
    send(private, world.admin, "reembolso confidencial")
    send(others_dm, world.admin, "reembolso entre outros")

    assert found(world.agent, world, "reembolso") == []
    assert found(world.agent, world, "reembolso", room_id=private.pk) == []
    assert found(world.agent, world, "reembolso", room_id=others_dm.pk) == []


def test_another_organization_is_never_searched(world: Team) -> None:
    theirs = channel(world.other_organization, owner=world.outsider)
    send(theirs, world.outsider, "reembolso de outra empresa")

    assert found(world.agent, world, "reembolso") == []
    assert found(world.agent, world, "reembolso", room_id=theirs.pk) == []
    with pytest.raises(NotFoundError):
        message_search(
            user=world.agent, organization_id=world.other_organization.pk, query="reembolso"
        )
    with pytest.raises(NotFoundError):
        message_search(user=world.outsider, organization_id=world.organization.pk, query="x y")


def test_deleted_messages_are_never_found(world: Team) -> None:
    from chat import services

    room = channel(world.organization, owner=world.agent)
    kept = send(room, world.agent, "reembolso aprovado")
    gone = send(room, world.agent, "reembolso negado")
    services.message_delete(user=world.agent, message=gone)
    # Even a deleted row that still had its text would stay hidden.
    also_gone = send(room, world.agent, "reembolso pendente")
    Message.objects.filter(pk=also_gone.pk).update(deleted_at=timezone.now())

    assert found(world.agent, world, "reembolso") == [kept.body]


def test_thread_replies_are_found_too(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    parent = send(room, world.agent, "pergunta sobre faturas")
    reply = send(room, world.agent, "a fatura chegou", parent_id=parent.pk)

    results = message_search(
        user=world.agent, organization_id=world.organization.pk, query="chegou"
    )

    assert [message.pk for message in results] == [reply.pk]


@pytest.mark.parametrize("query", ["", "   ", "a", "!", "? ?", "x" * 201])
def test_an_empty_or_too_short_query_is_refused(world: Team, query: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        message_search(user=world.agent, organization_id=world.organization.pk, query=query)

    assert (refused.value.code, refused.value.status_code) == ("chat.search_query_invalid", 422)


# --- Filters ---------------------------------------------------------------------------------


def test_filters_by_room_author_and_dates(world: Team) -> None:
    sales = channel(world.organization, owner=world.agent, members=[world.agent2])
    support = channel(world.organization, owner=world.agent, members=[world.agent2])
    march_1 = datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC)
    at(send(sales, world.agent, "proposta um"), march_1)
    at(send(sales, world.agent2, "proposta dois"), march_1 + datetime.timedelta(days=1))
    at(send(support, world.agent, "proposta três"), march_1 + datetime.timedelta(days=2))

    assert sorted(found(world.agent, world, "proposta", room_id=sales.pk)) == [
        "proposta dois",
        "proposta um",
    ]
    assert sorted(found(world.agent, world, "proposta", author_id=world.agent.pk)) == [
        "proposta três",
        "proposta um",
    ]
    assert found(world.agent, world, "proposta", since=march_1 + datetime.timedelta(hours=1)) == [
        "proposta três",
        "proposta dois",
    ]
    assert found(world.agent, world, "proposta", until=march_1 + datetime.timedelta(days=1)) == [
        "proposta um"
    ]
    assert found(world.agent, world, "proposta", room_id=sales.pk, author_id=world.agent2.pk) == [
        "proposta dois"
    ]


# --- PostgreSQL: full text -------------------------------------------------------------------


@on_postgresql
def test_portuguese_stemming_finds_other_forms_of_a_word(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "Os atendimentos de ontem foram ótimos")
    send(room, world.agent, "A fila de espera cresceu")
    send(room, world.agent, "nada a ver")

    assert found(world.agent, world, "atendimento") == ["Os atendimentos de ontem foram ótimos"]
    assert found(world.agent, world, "ÓTIMO") == ["Os atendimentos de ontem foram ótimos"]
    assert found(world.agent, world, "filas esperas") == ["A fila de espera cresceu"]


@on_postgresql
def test_web_search_syntax_excludes_and_quotes(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "pedido cancelado pelo cliente")
    send(room, world.agent, "pedido entregue ao cliente")

    assert found(world.agent, world, "pedido -cancelado") == ["pedido entregue ao cliente"]
    assert found(world.agent, world, '"entregue ao cliente"') == ["pedido entregue ao cliente"]


@on_postgresql
def test_best_matches_come_first(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    weak = send(room, world.agent, "uma fatura e muito mais texto que não importa nada aqui")
    strong = send(room, world.agent, "fatura fatura fatura")

    results = message_search(
        user=world.agent, organization_id=world.organization.pk, query="fatura"
    )

    assert [message.pk for message in results] == [strong.pk, weak.pk]


@on_postgresql
def test_the_headline_marks_stemmed_matches(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "Os atendimentos de ontem")

    (result,) = _results(world.agent, world, "atendimento")

    assert result["headline"] == "Os <mark>atendimentos</mark> de ontem"


@on_postgresql
def test_a_long_message_gets_a_headline_around_the_match(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "palavra " * 100 + "<b>reembolso</b> " + "depois " * 100)

    (result,) = _results(world.agent, world, "reembolso")

    headline = result["headline"]
    assert "<mark>reembolso</mark>" in headline
    assert "&lt;/b&gt;" in headline and "<b>" not in headline and "</b>" not in headline
    assert headline.count("palavra") + headline.count("depois") < 40


@on_postgresql
def test_the_full_text_match_uses_the_body_index(world: Team) -> None:
    # The planner can use the GIN index only if the query's expression is the index's, to
    # the character. With sequential scans off, a usable index must show in the plan.
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "atendimento")
    query = SearchQuery("atendimento", config="portuguese", search_type="websearch")
    matches = search.full_text_matches(Message.objects.all(), query)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = matches.explain()
        cursor.execute("RESET enable_seqscan")

    assert "Bitmap Index Scan on chat_message_body_search" in plan, plan
    assert [message.body for message in matches] == ["atendimento"]


# --- SQLite: every word must appear -----------------------------------------------------------


@on_sqlite
def test_every_word_must_appear_newest_first(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "Pedido CANCELADO pelo cliente")
    send(room, world.agent, "pedido entregue")
    send(room, world.agent, "o cliente fez um pedido novo")

    assert found(world.agent, world, "pedido cliente") == [
        "o cliente fez um pedido novo",
        "Pedido CANCELADO pelo cliente",
    ]


@on_sqlite
def test_sqlite_has_no_stemming_but_finds_words_inside_longer_ones(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "Os atendimentos de ontem")

    assert found(world.agent, world, "atendimento") == ["Os atendimentos de ontem"]
    assert found(world.agent, world, "atendimentoss") == []


@on_sqlite
def test_the_sqlite_headline_marks_each_word(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "Pedido cancelado: o pedido foi pago")

    (result,) = _results(world.agent, world, "pedido pago")

    assert result["headline"] == (
        "<mark>Pedido</mark> cancelado: o <mark>pedido</mark> foi <mark>pago</mark>"
    )


@on_sqlite
def test_a_long_sqlite_headline_is_a_window_around_the_first_match(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "palavra " * 60 + "reembolso " + "depois " * 60)

    (result,) = _results(world.agent, world, "reembolso")

    assert result["headline"].startswith("… palavra")
    assert result["headline"].endswith(" …")
    assert "<mark>reembolso</mark>" in result["headline"]
    assert len(result["headline"]) < 200 + len("<mark></mark>") + 4


# --- Headlines are safe HTML -------------------------------------------------------------------


def _results(user: User, world: Team, query: str) -> list[search.SearchResult]:
    messages = search.with_search_relations(
        message_search(user=user, organization_id=world.organization.pk, query=query)
    )
    return search.search_results(list(messages), query=query)


def test_the_headline_escapes_what_the_author_wrote(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, '<script>x</script> atendimento <img src=x onerror="alert(1)">')

    (result,) = _results(world.agent, world, "atendimento")

    headline = result["headline"]
    assert "&lt;script&gt;x&lt;/script&gt;" in headline
    assert "<mark>atendimento</mark>" in headline
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in headline
    assert "<script" not in headline and "<img" not in headline
    assert headline.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_a_query_cannot_inject_markup_into_the_headline(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "reembolso b <b>ok</b>")

    (result,) = _results(world.agent, world, "reembolso <b>")

    assert "<b>" not in result["headline"]
    assert "&lt;" in result["headline"]
    assert "<mark>reembolso</mark>" in result["headline"]


def test_names_in_the_headline_are_escaped_too(world: Team) -> None:
    world.agent2.display_name = "<i>Carla</i>"
    world.agent2.save(update_fields=["display_name"])
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    send(room, world.agent, f"<@{world.agent2.pk}> veja o reembolso")

    (result,) = _results(world.agent, world, "reembolso")

    assert "@&lt;i&gt;Carla&lt;/i&gt; veja o <mark>reembolso</mark>" in result["headline"]


def test_mentions_show_by_name_in_the_headline(world: Team) -> None:
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    send(room, world.agent, f"<@{world.agent2.pk}> veja o reembolso")

    (result,) = _results(world.agent, world, "reembolso")

    assert "@Carla Agente veja o <mark>reembolso</mark>" in result["headline"]


# --- API ---------------------------------------------------------------------------------------


def test_the_api_returns_a_page_of_message_room_and_headline(world: Team) -> None:
    room = channel(world.organization, owner=world.agent, name="suporte")
    message = send(room, world.agent, "reembolso <b>urgente</b>")

    response = client_for(world.agent).get(search_url(world.organization.pk, q="reembolso"))

    assert response.status_code == 200, response.content
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    (result,) = page["results"]
    assert set(result) == {"message", "room", "headline"}
    assert result["room"] == {"id": room.pk, "name": "suporte", "kind": "channel"}
    assert result["message"]["id"] == message.pk
    assert result["message"]["body"] == "reembolso <b>urgente</b>"
    assert "<b>" not in result["message"]["html"]
    assert result["headline"] == "<mark>reembolso</mark> &lt;b&gt;urgente&lt;/b&gt;"


def test_the_api_filters_by_room_author_and_day(world: Team) -> None:
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    other = channel(world.organization, owner=world.agent, members=[world.agent2])
    day = datetime.datetime(2025, 3, 10, 15, tzinfo=datetime.UTC)
    wanted = at(send(room, world.agent2, "proposta enviada"), day)
    at(send(room, world.agent, "proposta enviada"), day)
    at(send(other, world.agent2, "proposta enviada"), day)
    at(send(room, world.agent2, "proposta enviada"), day + datetime.timedelta(days=1))

    response = client_for(world.agent).get(
        search_url(
            world.organization.pk,
            q="proposta",
            room=room.pk,
            author=world.agent2.pk,
            since="2025-03-10",
            until="2025-03-10",
        )
    )

    assert response.status_code == 200, response.content
    assert [result["message"]["id"] for result in response.json()["results"]] == [wanted.pk]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": ""}, 422, "chat.search_query_invalid"),
        ({}, 422, "chat.search_query_invalid"),
        ({"q": "a"}, 422, "chat.search_query_invalid"),
        ({"q": "reembolso", "since": "ontem"}, 400, "validation_error"),
        ({"q": "reembolso", "room": "x"}, 400, "validation_error"),
    ],
)
def test_the_api_refuses_bad_parameters(
    world: Team, params: dict[str, str], status: int, code: str
) -> None:
    response = client_for(world.agent).get(search_url(world.organization.pk, **params))

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_the_api_is_for_members_of_the_organization(world: Team) -> None:
    url = search_url(world.organization.pk, q="reembolso")

    assert_error(client_for(world.outsider).get(url), 404, "not_found")
    assert client_for(None).get(url).status_code == 401
    assert client_for(world.viewer).get(url).status_code == 200


@pytest.mark.parametrize("count", [2, 12])
def test_the_api_runs_the_same_queries_whatever_the_page_holds(
    world: Team, django_assert_num_queries: Any, count: int
) -> None:
    rooms: list[Room] = [
        channel(world.organization, owner=world.agent, members=[world.agent2]) for _ in range(2)
    ]
    for index in range(count):
        message = send(
            rooms[index % 2], world.agent, f"reembolso {index} <@{world.agent2.pk}> :tada:"
        )
        send(rooms[index % 2], world.agent2, "reembolso na thread", parent_id=message.pk)
    client = client_for(world.agent)

    # membership, count, page, reactions, attachments, mentions, mentioned people's names
    with django_assert_num_queries(7):
        response = client.get(search_url(world.organization.pk, q="reembolso"))

    assert response.status_code == 200
    assert len(response.json()["results"]) == count * 2


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("reembolso' & !(", 1),
        ('reembolso "sem fim', 0),  # an unclosed quote: "sem fim" is still required
        ("reembolso:* | <->", 1),
        ("reembolso%_", 1),  # LIKE wildcards are matched literally, never as wildcards
        ("%%", None),
    ],
)
def test_punctuation_in_a_query_is_never_a_server_error(
    world: Team, query: str, count: int | None
) -> None:
    room = channel(world.organization, owner=world.agent)
    send(room, world.agent, "reembolso aprovado")

    response = client_for(world.agent).get(
        f"/api/v1/organizations/{world.organization.pk}/chat/search/", {"q": query}
    )

    if count is None:
        assert_error(
            response, 422, "chat.search_query_invalid", {"min_length": 2, "max_length": 200}
        )
    else:
        assert response.status_code == 200, response.content
        assert response.json()["count"] == count
