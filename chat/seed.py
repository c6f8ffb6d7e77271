"""Demo data of chat, for ``manage.py seed_demo``: channels, a thread, a mention, a reaction
and a DM between the two demo agents.

Everything goes through the services with fixed ``client_id``s, so a second run finds what
the first made and stores nothing twice.
"""

from __future__ import annotations

from accounts.models import Membership, Organization, User
from chat import services
from chat.models import Room, RoomKind

# (name, kind, topic, who is in it: "all" or a list of emails)
DEMO_CHANNELS: list[tuple[str, str, str, str | list[str]]] = [
    ("geral", RoomKind.CHANNEL, "Avisos e conversa de toda a equipe", "all"),
    ("suporte", RoomKind.CHANNEL, "Dúvidas de atendimento", "all"),
    ("gestao", RoomKind.PRIVATE, "Só a gestão", ["admin@atende.test", "agent1@atende.test"]),
]


def _channel(*, owner: User, organization: Organization, name: str, kind: str, topic: str) -> Room:
    room = Room.objects.filter(organization=organization, name=name).first()
    if room is None:
        room = services.room_create_channel(
            user=owner, organization_id=organization.pk, kind=kind, name=name, topic=topic
        )
    return room


def seed_chat_demo(*, organization: Organization) -> None:
    people = {
        membership.user.email: membership.user
        for membership in Membership.objects.filter(organization=organization).select_related(
            "user"
        )
    }
    admin = people["admin@atende.test"]
    bruno = people["agent1@atende.test"]
    carla = people["agent2@atende.test"]

    rooms: dict[str, Room] = {}
    for name, kind, topic, who in DEMO_CHANNELS:
        room = _channel(owner=admin, organization=organization, name=name, kind=kind, topic=topic)
        wanted = list(people.values()) if who == "all" else [people[email] for email in who]
        services.room_members_add(
            user=admin, room=room, user_ids=[user.pk for user in wanted if user.pk != admin.pk]
        )
        rooms[name] = room

    geral = rooms["geral"]
    welcome, _ = services.message_send(
        user=admin,
        room=geral,
        body="Bem-vindos ao **#geral**! :wave: Aqui ficam os avisos da equipe.",
        client_id=f"seed:{geral.pk}:geral-welcome",
    )
    question, _ = services.message_send(
        user=bruno,
        room=geral,
        body=f"<@{carla.pk}> você cobre o plantão de sábado?",
        client_id=f"seed:{geral.pk}:geral-question",
    )
    services.message_send(
        user=carla,
        room=geral,
        body="Cubro sim! :thumbsup:",
        parent_id=question.pk,
        client_id=f"seed:{geral.pk}:geral-reply",
    )
    services.reaction_add(user=carla, message=welcome, emoji="tada")
    services.message_send(
        user=bruno,
        room=rooms["suporte"],
        body="Dica: use `@here` só para o que é urgente.",
        client_id=f"seed:{rooms['suporte'].pk}:suporte-tip",
    )
    services.message_send(
        user=admin,
        room=rooms["gestao"],
        body="Metas do mês revisadas: https://example.com/metas",
        client_id=f"seed:{rooms['gestao'].pk}:gestao-goals",
    )
    dm, _ = services.direct_room_get_or_create(
        user=bruno, organization_id=organization.pk, user_ids=[carla.pk]
    )
    services.message_send(
        user=bruno,
        room=dm,
        body="Oi Carla, pode me ajudar com um cliente?",
        client_id=f"seed:{dm.pk}:dm-1",
    )
    services.message_send(
        user=carla,
        room=dm,
        body="Claro, me manda o número do atendimento.",
        client_id=f"seed:{dm.pk}:dm-2",
    )
