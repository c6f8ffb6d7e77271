"""The staff inbox API: payloads, filters, paging, commands and configuration.

Who may call which endpoint is in ``test_inbox_permissions``; here each endpoint is called by
someone allowed to, and the answer is compared whole.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for, committed, rows
from chat.models import Attachment, Message, MessageKind
from chat.support import support_message_create
from queueing import sla
from queueing.models import (
    AgentAvailability,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    Department,
    QueueMember,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)
from queueing.tests import inbox_factories as make

pytestmark = pytest.mark.django_db


def iso(value: datetime.datetime | None) -> str | None:
    """A datetime as the API writes it (in the current time zone)."""
    return None if value is None else serializers.DateTimeField().to_representation(value)


@dataclass
class World:
    organization: Organization
    department: Department
    queue: SupportQueue
    other_queue: SupportQueue
    admin: User
    agent: User
    outside_agent: User
    viewer: User
    outsider: User

    def url(self, rest: str) -> str:
        return f"/api/v1/inbox/{self.organization.pk}/{rest}"


def world() -> World:
    organization = make.organization(name="Escola")
    department = make.department(organization, "Suporte")
    queue = make.queue(organization, dept=department, name="Geral")
    other_queue = make.queue(organization, dept=department, name="Financeiro")
    foreign = make.organization(name="Outra")
    return World(
        organization=organization,
        department=department,
        queue=queue,
        other_queue=other_queue,
        admin=make.agent(organization, role=Role.ORG_ADMIN, display_name="Ana Admin"),
        agent=make.agent(organization, queue, display_name="Bruno Agente"),
        outside_agent=make.agent(organization, other_queue, display_name="Carla Fora"),
        viewer=make.member(organization, role=Role.VIEWER, display_name="Vera Vista"),
        outsider=make.member(foreign, role=Role.ORG_ADMIN, display_name="Otto"),
    )


def conversation_json(conversation: Conversation, *, preview: str = "") -> dict[str, Any]:
    conversation.refresh_from_db()
    contact = conversation.contact
    queue = conversation.queue
    assignee = conversation.assignee
    return {
        "id": conversation.pk,
        "organization_id": conversation.organization_id,
        "contact": {"id": contact.pk, "name": contact.name, "email": contact.email},
        "channel": conversation.channel,
        "status": conversation.status,
        "priority": conversation.priority,
        "labels": conversation.labels,
        "subject": conversation.subject,
        "queue": {"id": queue.pk, "name": queue.name},
        "department": {"id": queue.department.pk, "name": queue.department.name},
        "assignee": {"id": assignee.pk, "name": assignee.get_full_name()} if assignee else None,
        "assigned_at": iso(conversation.assigned_at),
        "waiting_since": iso(conversation.waiting_since),
        "snoozed_until": iso(conversation.snoozed_until),
        "offline": conversation.offline,
        # Helper A1's shape, tested there; here it only has to be the conversation's.
        "sla": sla.sla_payload(conversation),
        "last_message_at": iso(conversation.last_message_at),
        "last_message_preview": preview,
        "merged_into_id": conversation.merged_into_id,
        "created_at": iso(conversation.created_at),
        "csat": None,
    }


def say(
    conversation: Conversation, body: str, *, by: User | None = None, note: bool = False
) -> Message:
    """A message written straight into the room (the contact's when ``by`` is None)."""
    message, _created = support_message_create(
        room=conversation.room,
        author_id=by.pk if by else None,
        by_contact=by is None,
        body=body,
        kind=MessageKind.NOTE if note else MessageKind.TEXT,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    return message


def message_json(message: Message, conversation: Conversation) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.pk,
        "conversation_id": conversation.pk,
        "kind": message.kind,
        "body": message.body,
        "html": message.html,
        "by_contact": message.by_contact,
        "author": {"id": author.pk, "name": author.get_full_name(), "avatar_url": None}
        if author
        else None,
        "attachments": [],
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
    }


# --- Conversation list -----------------------------------------------------------------------


def test_the_list_shows_each_conversation_whole_with_its_last_message() -> None:
    w = world()
    conversation = make.conversation(
        w.queue, who=make.contact(w.organization, name="Maria", email="maria@example.com")
    )
    say(conversation, "Olá, preciso de ajuda")

    response = client_for(w.admin).get(w.url("conversations/"))

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [conversation_json(conversation, preview="Olá, preciso de ajuda")],
    }


def test_an_agent_lists_their_queues_and_their_own_conversations_only() -> None:
    w = world()
    in_queue = make.conversation(w.queue)
    elsewhere = make.conversation(w.other_queue)
    assigned_elsewhere = make.conversation(w.other_queue, assignee=w.agent)

    got = client_for(w.agent).get(w.url("conversations/")).json()["results"]

    assert sorted(item["id"] for item in got) == sorted([in_queue.pk, assigned_elsewhere.pk])
    assert elsewhere.pk not in [item["id"] for item in got]


def test_the_views_mine_unassigned_and_all() -> None:
    w = world()
    mine = make.conversation(w.queue, assignee=w.agent)
    waiting = make.conversation(w.queue)
    someone_elses = make.conversation(w.queue, assignee=w.admin)
    resolved = make.conversation(w.queue, status=ConversationStatus.RESOLVED)
    api = client_for(w.agent)

    def ids(**params: str) -> set[int]:
        response = api.get(w.url("conversations/"), params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids(view="mine") == {mine.pk}
    assert ids(view="unassigned") == {waiting.pk}
    assert ids(view="all") == {mine.pk, waiting.pk, someone_elses.pk, resolved.pk}
    assert ids() == {mine.pk, waiting.pk, someone_elses.pk, resolved.pk}


def test_the_list_filters_by_queue_department_status_and_search() -> None:
    w = world()
    sales = make.department(w.organization, "Vendas")
    sales_queue = make.queue(w.organization, dept=sales, name="Vendas")
    maria = make.conversation(
        w.queue, who=make.contact(w.organization, name="Maria", email="m@example.com")
    )
    joao = make.conversation(
        w.other_queue,
        who=make.contact(w.organization, name="João", email="joao@example.com"),
        status=ConversationStatus.PENDING,
        assignee=w.admin,
    )
    lead = make.conversation(sales_queue, subject="Plano anual")
    api = client_for(w.admin)

    def ids(**params: Any) -> set[int]:
        response = api.get(w.url("conversations/"), params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids(queue=w.queue.pk) == {maria.pk}
    assert ids(department=sales.pk) == {lead.pk}
    assert ids(department=w.department.pk) == {maria.pk, joao.pk}
    assert ids(status="pending") == {joao.pk}
    assert ids(q="joao@") == {joao.pk}
    assert ids(q="anual") == {lead.pk}
    assert ids(q="  ") == {maria.pk, joao.pk, lead.pk}


def test_a_bad_filter_is_a_validation_error() -> None:
    w = world()

    response = client_for(w.admin).get(w.url("conversations/"), {"view": "everything"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["extra"]["fields"]) == ["view"]


def test_the_list_pages_by_cursor_newest_activity_first() -> None:
    w = world()
    conversations = [make.conversation(w.queue) for _index in range(5)]
    for index, conversation in enumerate(conversations):
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=make.at(index))
    api = client_for(w.admin)

    first = api.get(w.url("conversations/"), {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    newest_first = [item.pk for item in reversed(conversations)]
    assert [item["id"] for item in first["results"]] == newest_first[:2]
    assert [item["id"] for item in second["results"]] == newest_first[2:4]
    assert [item["id"] for item in third["results"]] == newest_first[4:]
    assert third["next"] is None


@pytest.mark.parametrize("count", [1, 10])
def test_the_list_costs_the_same_queries_whatever_its_length(
    count: int, django_assert_num_queries: Any
) -> None:
    w = world()
    for _index in range(count):
        conversation = make.conversation(
            w.queue, assignee=w.agent, status=ConversationStatus.PENDING
        )
        say(conversation, "oi")
        say(conversation, "nota", by=w.agent, note=True)
    api = client_for(w.agent)

    # the permission's role, the visibility's role, the page (contact, queue, department,
    # assignee, CSAT joined; the preview a subquery)
    with django_assert_num_queries(3):
        response = api.get(w.url("conversations/"))

    assert response.status_code == 200
    assert [item["last_message_preview"] for item in response.json()["results"]] == ["nota"] * count


# --- One conversation ------------------------------------------------------------------------


def test_a_conversation_in_full() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent, labels=["boleto"], priority=2)

    response = client_for(w.agent).get(w.url(f"conversations/{conversation.pk}/"))

    assert response.status_code == 200
    assert response.json() == conversation_json(conversation)


def test_another_organizations_conversation_is_not_found_even_by_its_id() -> None:
    w = world()
    foreign_queue = make.queue(make.organization())
    foreign = make.conversation(foreign_queue)

    response = client_for(w.admin).get(w.url(f"conversations/{foreign.pk}/"))

    assert_error(response, 404, "inbox.not_found")


def test_staff_read_the_messages_notes_included_oldest_first_and_after_an_id() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    hello = say(conversation, "Olá")
    note = say(conversation, "cliente VIP", by=w.agent, note=True)
    reply = say(conversation, "Oi! Como posso ajudar?", by=w.agent)
    api = client_for(w.agent)

    everything = api.get(w.url(f"conversations/{conversation.pk}/messages/"))
    after = api.get(w.url(f"conversations/{conversation.pk}/messages/"), {"after": hello.pk})

    assert everything.status_code == 200
    assert everything.json() == {
        "results": [
            message_json(hello, conversation),
            message_json(note, conversation),
            message_json(reply, conversation),
        ],
        "has_more": False,
    }
    assert [item["id"] for item in after.json()["results"]] == [note.pk, reply.pk]
    assert everything.json()["results"][1]["kind"] == "note"


def test_the_events_of_a_conversation_oldest_first() -> None:
    w = world()
    conversation = make.conversation(w.queue)
    created = ConversationEvent.objects.create(
        conversation=conversation,
        organization=w.organization,
        kind=ConversationEventKind.CREATED,
        created_at=make.at(0),
    )
    assigned = ConversationEvent.objects.create(
        conversation=conversation,
        organization=w.organization,
        kind=ConversationEventKind.ASSIGNED,
        actor=w.admin,
        data={"to_user": w.agent.pk},
        created_at=make.at(60),
    )

    response = client_for(w.viewer).get(w.url(f"conversations/{conversation.pk}/events/"))

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": created.pk,
            "kind": "created",
            "actor": None,
            "data": {},
            "created_at": iso(make.at(0)),
        },
        {
            "id": assigned.pk,
            "kind": "assigned",
            "actor": {"id": w.admin.pk, "name": "Ana Admin"},
            "data": {"to_user": w.agent.pk},
            "created_at": iso(make.at(60)),
        },
    ]


def test_a_contact_with_the_conversations_the_agent_sees() -> None:
    w = world()
    maria = make.contact(w.organization, name="Maria", email="maria@example.com")
    seen = make.conversation(w.queue, who=maria, status=ConversationStatus.RESOLVED)
    make.conversation(w.other_queue, who=maria)

    response = client_for(w.agent).get(w.url(f"contacts/{maria.pk}/"))

    assert response.status_code == 200
    assert response.json() == {
        "id": maria.pk,
        "name": "Maria",
        "email": "maria@example.com",
        "user_id": None,
        "created_at": iso(maria.created_at),
        "last_seen_at": None,
        "conversations": [conversation_json(seen)],
    }


def test_a_contact_the_agent_has_no_conversation_with_is_not_found() -> None:
    w = world()
    stranger = make.contact(w.organization)
    make.conversation(w.other_queue, who=stranger)

    response = client_for(w.agent).get(w.url(f"contacts/{stranger.pk}/"))

    assert_error(response, 404, "inbox.not_found")


# --- Messages and commands -------------------------------------------------------------------


def test_the_assignee_replies_and_a_retry_answers_the_first_message() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    api = client_for(w.agent)
    url = w.url(f"conversations/{conversation.pk}/messages/")

    with committed():
        first = api.post(url, {"body": "Oi, **Maria**!", "client_id": "c-1"}, format="json")
        retry = api.post(url, {"body": "Oi, **Maria**!", "client_id": "c-1"}, format="json")

    message = Message.objects.get()
    assert first.status_code == 201, first.content
    assert first.json() == message_json(message, conversation)
    assert message.kind == MessageKind.TEXT
    assert message.client_id == "c-1"
    assert retry.status_code == 200
    assert retry.json() == first.json()


def test_an_agent_of_the_queue_adds_a_note_but_may_not_reply_unassigned() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.admin)
    api = client_for(w.agent)
    url = w.url(f"conversations/{conversation.pk}/messages/")

    with committed():
        note = api.post(url, {"body": "cliente VIP", "note": True}, format="json")
        reply = api.post(url, {"body": "Olá"}, format="json")

    message = Message.objects.get()
    assert note.status_code == 201
    assert note.json() == message_json(message, conversation)
    assert message.kind == MessageKind.NOTE
    assert_error(reply, 403, "inbox.permission_denied")


def test_an_agent_takes_an_unassigned_conversation_of_their_queue() -> None:
    w = world()
    conversation = make.conversation(w.queue)

    with committed():
        response = client_for(w.agent).post(
            w.url(f"conversations/{conversation.pk}/assign/"),
            {"user_id": w.agent.pk},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json() == conversation_json(conversation)
    assert response.json()["assignee"] == {"id": w.agent.pk, "name": "Bruno Agente"}
    assert response.json()["waiting_since"] is None


def test_assigning_to_a_full_agent_is_refused_and_nothing_changes() -> None:
    w = world()
    SupportAgent.objects.filter(user=w.agent).update(capacity=1)
    make.conversation(w.queue, assignee=w.agent)
    conversation = make.conversation(w.queue)
    before = rows(Conversation)

    response = client_for(w.admin).post(
        w.url(f"conversations/{conversation.pk}/assign/"), {"user_id": w.agent.pk}, format="json"
    )

    assert_error(response, 409, "inbox.agent_at_capacity")
    assert rows(Conversation) == before


def test_the_assignee_transfers_to_another_queue_with_a_note() -> None:
    w = world()
    # Manual: it waits there, instead of being routed to that queue's agent after commit.
    SupportQueue.objects.filter(pk=w.other_queue.pk).update(routing_strategy="manual")
    conversation = make.conversation(w.queue, assignee=w.agent)

    with committed():
        response = client_for(w.agent).post(
            w.url(f"conversations/{conversation.pk}/transfer/"),
            {"queue_id": w.other_queue.pk, "note": "é do financeiro"},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json() == conversation_json(
        conversation, preview=Message.objects.get(kind=MessageKind.NOTE).body
    )
    assert response.json()["queue"] == {"id": w.other_queue.pk, "name": "Financeiro"}
    assert "é do financeiro" in Message.objects.get(kind=MessageKind.NOTE).body
    assert ConversationEvent.objects.filter(kind=ConversationEventKind.TRANSFERRED).count() == 1


def test_a_transfer_names_exactly_one_target() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    before = rows(Conversation)

    response = client_for(w.agent).post(
        w.url(f"conversations/{conversation.pk}/transfer/"),
        {"queue_id": w.other_queue.pk, "user_id": w.admin.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert rows(Conversation) == before


def test_the_assignee_resolves_and_reopens() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    api = client_for(w.agent)

    with committed():
        resolved = api.post(
            w.url(f"conversations/{conversation.pk}/status/"), {"status": "resolved"}, format="json"
        )
    resolved_json = conversation_json(conversation)
    with committed():
        reopened = api.post(w.url(f"conversations/{conversation.pk}/reopen/"))

    assert resolved.status_code == 200, resolved.content
    assert resolved.json() == resolved_json
    assert resolved.json()["status"] == "resolved"
    assert reopened.status_code == 200, reopened.content
    assert reopened.json() == conversation_json(conversation)
    assert reopened.json()["status"] == "open"


def test_snoozing_until_a_time() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    until = datetime.datetime(2030, 1, 2, 12, 0, tzinfo=datetime.UTC)

    with committed():
        response = client_for(w.agent).post(
            w.url(f"conversations/{conversation.pk}/status/"),
            {"status": "snoozed", "snoozed_until": until.isoformat()},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json() == conversation_json(conversation)
    assert (response.json()["status"], response.json()["snoozed_until"]) == ("snoozed", iso(until))


def test_the_assignee_sets_priority_and_labels() -> None:
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)

    with committed():
        response = client_for(w.agent).patch(
            w.url(f"conversations/{conversation.pk}/"),
            {"priority": 3, "labels": ["Boleto", "VIP"]},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json() == conversation_json(conversation)
    assert (response.json()["priority"], response.json()["labels"]) == (3, ["boleto", "vip"])


def test_an_admin_merges_a_contacts_second_conversation_into_the_first() -> None:
    w = world()
    maria = make.contact(w.organization, name="Maria")
    target = make.conversation(w.queue, who=maria, assignee=w.agent)
    source = make.conversation(w.queue, who=maria, channel="in_app")
    moved = say(source, "sou eu de novo")

    with committed():
        response = client_for(w.admin).post(
            w.url(f"conversations/{target.pk}/merge/"), {"source_id": source.pk}, format="json"
        )

    source.refresh_from_db()
    moved.refresh_from_db()
    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    assert (source.status, source.merged_into_id) == (ConversationStatus.RESOLVED, target.pk)
    assert moved.room_id == target.room_id


def test_merging_another_contacts_conversation_is_refused() -> None:
    w = world()
    target = make.conversation(w.queue, assignee=w.agent)
    source = make.conversation(w.queue)
    before = rows(Conversation)

    response = client_for(w.admin).post(
        w.url(f"conversations/{target.pk}/merge/"), {"source_id": source.pk}, format="json"
    )

    assert_error(response, 409, "inbox.merge_different_contact")
    assert rows(Conversation) == before


# --- Pulling ---------------------------------------------------------------------------------


def test_pulling_takes_the_oldest_waiting_conversation_of_my_queues() -> None:
    w = world()
    older = make.conversation(w.queue, waiting_since=make.at(0))
    make.conversation(w.queue, waiting_since=make.at(60))
    make.conversation(w.other_queue, waiting_since=make.at(-60))

    with committed():
        response = client_for(w.agent).post(w.url("conversations/pull/"))

    assert response.status_code == 200
    assert response.json() == conversation_json(older)
    assert response.json()["assignee"] == {"id": w.agent.pk, "name": "Bruno Agente"}
    assert SupportAgent.objects.get(user=w.agent).open_count == 1


def test_pulling_with_nobody_waiting_is_404_and_changes_nothing() -> None:
    w = world()
    before = rows(Conversation)

    response = client_for(w.agent).post(w.url("conversations/pull/"))

    assert_error(response, 404, "inbox.nothing_waiting")
    assert rows(Conversation) == before


# --- Attachments -----------------------------------------------------------------------------


def png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_agent_uploads_a_file_and_staff_who_see_the_conversation_download_it(
    settings: Any, tmp_path: Any
) -> None:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    w = world()
    conversation = make.conversation(w.queue, assignee=w.agent)
    content = png()

    upload = client_for(w.agent).post(
        w.url(f"conversations/{conversation.pk}/attachments/"),
        {"file": SimpleUploadedFile("print.png", content, content_type="image/png")},
        format="multipart",
    )

    assert upload.status_code == 201, upload.content
    attachment = Attachment.objects.get()
    url = f"/api/v1/inbox/{w.organization.pk}/attachments/{attachment.pk}/"
    assert upload.json() == {
        "id": attachment.pk,
        "kind": "image",
        "name": "print.png",
        "content_type": "image/png",
        "size": len(content),
        "width": 4,
        "height": 4,
        "duration_ms": None,
        "url": url,
        "thumbnail_url": f"{url}?thumbnail=1" if attachment.thumbnail else None,
    }
    # Unsent, the upload is its uploader's alone.
    assert client_for(w.admin).get(url).status_code == 404
    mine = client_for(w.agent).get(url)
    assert mine.status_code == 200
    assert mine.getvalue() == content
    # Sent with a note, everyone who sees the conversation may download it.
    support_message_create(
        room=conversation.room,
        author_id=w.agent.pk,
        by_contact=False,
        body="",
        kind=MessageKind.NOTE,
        attachment_ids=[attachment.pk],
    )
    assert client_for(w.admin).get(url).status_code == 200
    assert client_for(w.viewer).get(url).status_code == 200
    assert_error(client_for(w.outside_agent).get(url), 404, "inbox.not_found")
    assert_error(client_for(w.outsider).get(url), 404, "inbox.not_found")


# --- Agents and supervisors ------------------------------------------------------------------


def test_my_agent_state_and_availability() -> None:
    w = world()
    newcomer = make.member(w.organization, role=Role.AGENT, display_name="Nina Nova")
    api = client_for(newcomer)

    got = api.get(w.url("agents/me/"))
    with committed():
        changed = api.patch(w.url("agents/me/"), {"availability": "busy"}, format="json")

    assert got.status_code == 200
    assert got.json() == {
        "user_id": newcomer.pk,
        "name": "Nina Nova",
        "availability": "offline",
        "connected": False,
        "open_count": 0,
        "capacity": 5,
        "skills": [],
    }
    assert changed.status_code == 200
    assert changed.json() == {**got.json(), "availability": "busy"}
    assert SupportAgent.objects.get(user=newcomer).availability == AgentAvailability.BUSY


def test_the_agents_of_the_organization_with_their_state() -> None:
    w = world()
    SupportAgent.objects.filter(user=w.agent).update(open_count=2, skills=["boleto"])

    response = client_for(w.agent).get(w.url("agents/"))

    assert response.status_code == 200
    assert response.json() == [
        {
            "user_id": w.admin.pk,
            "name": "Ana Admin",
            "availability": "online",
            "connected": True,
            "open_count": 0,
            "capacity": 5,
            "skills": [],
        },
        {
            "user_id": w.agent.pk,
            "name": "Bruno Agente",
            "availability": "online",
            "connected": True,
            "open_count": 2,
            "capacity": 5,
            "skills": ["boleto"],
        },
        {
            "user_id": w.outside_agent.pk,
            "name": "Carla Fora",
            "availability": "online",
            "connected": True,
            "open_count": 0,
            "capacity": 5,
            "skills": [],
        },
    ]


def test_an_admin_sets_an_agents_capacity_and_skills() -> None:
    w = world()

    with committed():
        response = client_for(w.admin).patch(
            w.url(f"agents/{w.agent.pk}/"),
            {"capacity": 8, "skills": ["Boleto", "PIX"]},
            format="json",
        )

    assert response.status_code == 200
    assert response.json() == {
        "user_id": w.agent.pk,
        "name": "Bruno Agente",
        "availability": "online",
        "connected": True,
        "open_count": 0,
        "capacity": 8,
        "skills": ["boleto", "pix"],
    }


def test_setting_a_viewer_as_an_agent_is_not_found() -> None:
    w = world()

    response = client_for(w.admin).patch(
        w.url(f"agents/{w.viewer.pk}/"), {"capacity": 3}, format="json"
    )

    assert_error(response, 404, "inbox.agent_not_found")
    assert not SupportAgent.objects.filter(user=w.viewer).exists()


def test_the_supervisor_snapshot() -> None:
    w = world()
    make.conversation(w.queue, waiting_since=make.at(0))
    make.conversation(w.queue, assignee=w.agent)

    response = client_for(w.admin).get(w.url("supervisor/"))

    assert response.status_code == 200
    body = response.json()
    assert body["queues"] == [
        {
            "id": w.other_queue.pk,
            "name": "Financeiro",
            "department": {"id": w.department.pk, "name": "Suporte"},
            "waiting": 0,
            "open": 0,
            "oldest_waiting_since": None,
            "breached": 0,
        },
        {
            "id": w.queue.pk,
            "name": "Geral",
            "department": {"id": w.department.pk, "name": "Suporte"},
            "waiting": 1,
            "open": 2,
            "oldest_waiting_since": iso(make.at(0)),
            "breached": 0,
        },
    ]
    assert [(row["name"], row["open_count"], row["available"]) for row in body["agents"]] == [
        ("Ana Admin", 0, True),
        ("Bruno Agente", 1, True),
        ("Carla Fora", 0, True),
    ]


# --- Configuration ---------------------------------------------------------------------------


def test_an_admin_manages_departments() -> None:
    w = world()
    api = client_for(w.admin)

    created = api.post(
        w.url("departments/"), {"name": "Vendas", "description": "Planos"}, format="json"
    )
    sales = Department.objects.get(name="Vendas")
    changed = api.patch(w.url(f"departments/{sales.pk}/"), {"is_active": False}, format="json")
    listed = client_for(w.viewer).get(w.url("departments/"))
    deleted = api.delete(w.url(f"departments/{sales.pk}/"))

    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": sales.pk,
        "name": "Vendas",
        "description": "Planos",
        "is_active": True,
    }
    assert changed.json() == {**created.json(), "is_active": False}
    assert listed.json() == [
        {"id": w.department.pk, "name": "Suporte", "description": "", "is_active": True},
        {**created.json(), "is_active": False},
    ]
    assert deleted.status_code == 204
    assert list(Department.objects.values_list("name", flat=True)) == ["Suporte"]


def test_an_admin_manages_queues_and_their_members() -> None:
    w = world()
    api = client_for(w.admin)

    created = api.post(
        w.url("queues/"),
        {
            "department_id": w.department.pk,
            "name": "Urgente",
            "priority": 5,
            "routing_strategy": "manual",
            "time_zone": "America/Sao_Paulo",
            "weekly_hours": [{"day": 0, "start": "09:00", "end": "18:00"}],
            "holidays": ["2026-12-25"],
            "first_response_minutes": 5,
        },
        format="json",
    )
    urgent = SupportQueue.objects.get(name="Urgente")
    with committed():
        added = api.post(
            w.url(f"queues/{urgent.pk}/members/"),
            {"user_id": w.agent.pk, "is_supervisor": True},
            format="json",
        )
        removed = api.delete(w.url(f"queues/{urgent.pk}/members/{w.agent.pk}/"))
    changed = api.patch(w.url(f"queues/{urgent.pk}/"), {"priority": 1}, format="json")

    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": urgent.pk,
        "department_id": w.department.pk,
        "name": "Urgente",
        "priority": 5,
        "routing_strategy": "manual",
        "time_zone": "America/Sao_Paulo",
        "weekly_hours": [{"day": 0, "start": "09:00", "end": "18:00"}],
        "holidays": ["2026-12-25"],
        "first_response_minutes": 5,
        "resolution_minutes": None,
        "sla_warning_minutes": 10,
        "requeue_after_seconds": 120,
        "members": [],
    }
    assert added.status_code == 200, added.content
    assert added.json()["members"] == [
        {"user_id": w.agent.pk, "name": "Bruno Agente", "is_supervisor": True}
    ]
    assert removed.json()["members"] == []
    assert changed.json() == {**created.json(), "priority": 1}
    assert not QueueMember.objects.filter(queue=urgent).exists()


def test_queue_hours_are_checked() -> None:
    w = world()

    response = client_for(w.admin).post(
        w.url("queues/"),
        {
            "department_id": w.department.pk,
            "name": "Noite",
            "weekly_hours": [{"day": 9, "start": "25:00", "end": "18:00"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "inbox.invalid_hours"
    assert not SupportQueue.objects.filter(name="Noite").exists()


def test_canned_responses_are_read_by_agents_and_managed_by_admins() -> None:
    w = world()
    admin = client_for(w.admin)

    created = admin.post(
        w.url("canned/"),
        {"shortcut": "ola", "title": "Saudação", "body": "Olá! Como posso ajudar?"},
        format="json",
    )
    canned = CannedResponse.objects.get()
    taken = admin.post(
        w.url("canned/"), {"shortcut": "ola", "title": "Outra", "body": "x"}, format="json"
    )
    changed = admin.patch(w.url(f"canned/{canned.pk}/"), {"title": "Oi"}, format="json")
    found = client_for(w.agent).get(w.url("canned/"), {"q": "/ol"})
    deleted = admin.delete(w.url(f"canned/{canned.pk}/"))

    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": canned.pk,
        "shortcut": "ola",
        "title": "Saudação",
        "body": "Olá! Como posso ajudar?",
    }
    assert taken.status_code == 409
    assert taken.json()["code"] == "inbox.shortcut_taken"
    assert changed.json() == {**created.json(), "title": "Oi"}
    assert found.json() == [changed.json()]
    assert deleted.status_code == 204
    assert not CannedResponse.objects.exists()


def test_the_widget_settings_snippet_and_key_rotation(settings: Any) -> None:
    settings.WIDGET_PUBLIC_URL = "https://atende.example.com"
    w = world()
    api = client_for(w.admin)

    got = api.get(w.url("widget/"))
    widget = SupportWidget.objects.get(organization=w.organization)
    changed = api.patch(
        w.url("widget/"),
        {"allowed_origins": ["https://WWW.Escola.com.br"], "title": "Fale conosco"},
        format="json",
    )
    old_key = widget.public_key
    rotated = api.post(w.url("widget/rotate-key/"))
    widget.refresh_from_db()

    assert got.status_code == 200
    assert got.json() == {
        "public_key": old_key,
        "allowed_origins": [],
        "enabled": True,
        "title": "",
        "greeting": "",
        "color": "#0f766e",
        "offline_email": "",
        "embed_snippet": '<script src="https://atende.example.com/static/widget/widget.js" '
        f'data-key="{old_key}" async></script>',
    }
    assert changed.json() == {
        **got.json(),
        "allowed_origins": ["https://www.escola.com.br"],
        "title": "Fale conosco",
    }
    assert widget.public_key != old_key
    assert rotated.json() == {
        **changed.json(),
        "public_key": widget.public_key,
        "embed_snippet": '<script src="https://atende.example.com/static/widget/widget.js" '
        f'data-key="{widget.public_key}" async></script>',
    }


def test_a_widget_origin_with_a_path_is_refused() -> None:
    w = world()
    make.widget(w.organization, origins=["https://example.com"])

    response = client_for(w.admin).patch(
        w.url("widget/"), {"allowed_origins": ["https://example.com/page"]}, format="json"
    )

    assert_error(response, 422, "inbox.invalid_origins", {"index": 0})
    assert SupportWidget.objects.get().allowed_origins == ["https://example.com"]


def test_an_unknown_field_is_refused_and_nothing_changes() -> None:
    w = world()

    response = client_for(w.admin).patch(
        w.url(f"departments/{w.department.pk}/"), {"nome": "Vendas"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["nome"]
    assert Department.objects.get().name == "Suporte"


def test_contacts_are_per_organization() -> None:
    w = world()
    foreign = make.contact(make.organization())

    response = client_for(w.admin).get(w.url(f"contacts/{foreign.pk}/"))

    assert_error(response, 404, "inbox.not_found")
    assert Contact.objects.count() == 1
