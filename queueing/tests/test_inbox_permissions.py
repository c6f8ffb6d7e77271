"""Who may use which staff inbox endpoint.

The world: queue "Geral" served by the assignee and another agent, queue "Financeiro" served
by a third agent; a conversation in Geral assigned to the assignee (and a second one of the
same contact, to merge), one waiting in each queue, one resolved by the assignee. Anonymous
callers get 401; another organization's admin gets 404 as if nothing existed; a conversation
outside what an agent sees is 404 too; viewers read and write nothing (403); replying and
managing are the assignee's and the org admin's; configuration is the org admin's.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for, committed, rows
from chat.models import Message, MessageKind
from chat.support import support_attachment_upload, support_message_create
from queueing.models import (
    CannedResponse,
    Conversation,
    ConversationStatus,
    Department,
    QueueMember,
    SupportAgent,
    SupportQueue,
)
from queueing.tests import inbox_factories as make

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "outsider", "viewer", "agent_out", "agent_in", "assignee", "admin")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 120, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def build() -> dict[str, Any]:
    organization = make.organization()
    department = make.department(organization, "Suporte")
    queue = make.queue(organization, dept=department, name="Geral", strategy="manual")
    other_queue = make.queue(organization, dept=department, name="Financeiro", strategy="manual")
    empty_department = make.department(organization, "Vazio")
    empty_queue = make.queue(organization, dept=department, name="Sem uso")
    admin = make.agent(organization, role=Role.ORG_ADMIN)
    assignee = make.agent(organization, queue)
    agent_in = make.agent(organization, queue)
    agent_out = make.agent(organization, other_queue)
    viewer = make.member(organization, role=Role.VIEWER)
    outsider = make.agent(make.organization(), role=Role.ORG_ADMIN)

    maria = make.contact(organization, name="Maria")
    conversation = make.conversation(queue, who=maria, assignee=assignee)
    source = make.conversation(queue, who=maria, assignee=assignee, channel="in_app")
    make.conversation(queue)
    make.conversation(other_queue)
    closed = make.conversation(queue, assignee=assignee, status=ConversationStatus.RESOLVED)
    attachment = support_attachment_upload(
        room=conversation.room,
        uploaded_by_id=assignee.pk,
        file=SimpleUploadedFile("a.png", png(), content_type="image/png"),
    )
    support_message_create(
        room=conversation.room,
        author_id=assignee.pk,
        by_contact=False,
        body="",
        kind=MessageKind.NOTE,
        attachment_ids=[attachment.pk],
    )
    canned = CannedResponse.objects.create(
        organization=organization, shortcut="ola", title="Olá", body="Olá!"
    )
    make.widget(organization)
    return {
        "people": {
            "anonymous": None,
            "outsider": outsider,
            "viewer": viewer,
            "agent_out": agent_out,
            "agent_in": agent_in,
            "assignee": assignee,
            "admin": admin,
        },
        "ids": {
            "org": organization.pk,
            "conversation": conversation.pk,
            "source": source.pk,
            "closed": closed.pk,
            "attachment": attachment.pk,
            "contact": maria.pk,
            "department": department.pk,
            "empty_department": empty_department.pk,
            "queue": queue.pk,
            "other_queue": other_queue.pk,
            "empty_queue": empty_queue.pk,
            "canned": canned.pk,
            "agent_in": agent_in.pk,
            "agent_out": agent_out.pk,
            "outsider_org": outsider.memberships.get().organization_id,
        },
    }


def fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        text = value.format(**ids)
        # A whole "{name}" placeholder in a body is an id: sent as a number.
        return int(text) if value.startswith("{") and value.endswith("}") else text
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def call(actor: str, method: str, url: str, body: Any) -> int:
    built = build()
    user = built["people"][actor]
    ids = {**built["ids"], "me": user.pk if user is not None else 0}
    client = client_for(user)
    with committed():
        if body == "upload":
            response = client.post(
                url.format(**ids),
                {"file": SimpleUploadedFile("b.png", png(), content_type="image/png")},
                format="multipart",
            )
        else:
            response = getattr(client, method)(url.format(**ids), fill(body, ids), format="json")
    return int(response.status_code)


ORG = "/api/v1/inbox/{org}"
CONVERSATION = f"{ORG}/conversations/{{conversation}}"

STAFF_READ = (401, 404, 200, 200, 200, 200, 200)
SEES_IT = (401, 404, 200, 404, 200, 200, 200)
MANAGES_IT = (401, 404, 403, 404, 403, 200, 200)
ADMIN_ONLY = (401, 404, 403, 403, 403, 403, 200)
ANSWERS = (401, 404, 403, 200, 200, 200, 200)

MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    # method, url, body, expected status for each actor in ACTORS order
    ("get", f"{ORG}/conversations/", None, STAFF_READ),
    ("get", f"{CONVERSATION}/", None, SEES_IT),
    ("patch", f"{CONVERSATION}/", {"priority": 2}, MANAGES_IT),
    ("get", f"{CONVERSATION}/messages/", None, SEES_IT),
    ("post", f"{CONVERSATION}/messages/", {"body": "Olá"}, (401, 404, 403, 404, 403, 201, 201)),
    (
        "post",
        f"{CONVERSATION}/messages/",
        {"body": "nota", "note": True},
        (401, 404, 403, 404, 201, 201, 201),
    ),
    ("post", f"{CONVERSATION}/attachments/", "upload", (401, 404, 403, 404, 201, 201, 201)),
    ("get", f"{ORG}/attachments/{{attachment}}/", None, SEES_IT),
    # Pulling takes from one's own queues: the admin serves none, so nothing waits for them.
    ("post", f"{ORG}/conversations/pull/", None, (401, 404, 403, 200, 200, 200, 404)),
    ("post", f"{CONVERSATION}/assign/", {"user_id": "{agent_in}"}, MANAGES_IT),
    ("post", f"{CONVERSATION}/transfer/", {"queue_id": "{other_queue}"}, MANAGES_IT),
    ("post", f"{CONVERSATION}/status/", {"status": "pending"}, MANAGES_IT),
    ("post", f"{ORG}/conversations/{{closed}}/reopen/", None, MANAGES_IT),
    ("post", f"{CONVERSATION}/merge/", {"source_id": "{source}"}, MANAGES_IT),
    ("get", f"{CONVERSATION}/events/", None, SEES_IT),
    ("get", f"{ORG}/contacts/{{contact}}/", None, SEES_IT),
    ("get", f"{ORG}/agents/me/", None, ANSWERS),
    ("patch", f"{ORG}/agents/me/", {"availability": "busy"}, ANSWERS),
    ("get", f"{ORG}/agents/", None, STAFF_READ),
    ("patch", f"{ORG}/agents/{{agent_in}}/", {"capacity": 3}, ADMIN_ONLY),
    ("get", f"{ORG}/supervisor/", None, ADMIN_ONLY),
    ("get", f"{ORG}/departments/", None, STAFF_READ),
    ("post", f"{ORG}/departments/", {"name": "Vendas"}, (401, 404, 403, 403, 403, 403, 201)),
    ("patch", f"{ORG}/departments/{{department}}/", {"description": "x"}, ADMIN_ONLY),
    (
        "delete",
        f"{ORG}/departments/{{empty_department}}/",
        None,
        (401, 404, 403, 403, 403, 403, 204),
    ),
    ("get", f"{ORG}/queues/", None, STAFF_READ),
    (
        "post",
        f"{ORG}/queues/",
        {"department_id": "{department}", "name": "Nova"},
        (401, 404, 403, 403, 403, 403, 201),
    ),
    ("patch", f"{ORG}/queues/{{queue}}/", {"priority": 3}, ADMIN_ONLY),
    ("delete", f"{ORG}/queues/{{empty_queue}}/", None, (401, 404, 403, 403, 403, 403, 204)),
    ("post", f"{ORG}/queues/{{queue}}/members/", {"user_id": "{agent_out}"}, ADMIN_ONLY),
    ("delete", f"{ORG}/queues/{{queue}}/members/{{agent_in}}/", None, ADMIN_ONLY),
    ("get", f"{ORG}/canned/", None, ANSWERS),
    (
        "post",
        f"{ORG}/canned/",
        {"shortcut": "tchau", "title": "Tchau", "body": "Até logo!"},
        (401, 404, 403, 403, 403, 403, 201),
    ),
    ("patch", f"{ORG}/canned/{{canned}}/", {"title": "Oi"}, ADMIN_ONLY),
    ("delete", f"{ORG}/canned/{{canned}}/", None, (401, 404, 403, 403, 403, 403, 204)),
    ("get", f"{ORG}/widget/", None, ADMIN_ONLY),
    ("patch", f"{ORG}/widget/", {"title": "Fale conosco"}, ADMIN_ONLY),
    ("post", f"{ORG}/widget/rotate-key/", None, ADMIN_ONLY),
]


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Any) -> None:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX)
def test_the_inbox_permission_matrix(
    method: str, url: str, body: Any, expected: tuple[int, ...]
) -> None:
    got = tuple(call(actor, method, url, body) for actor in ACTORS)

    assert got == expected


def test_an_agent_takes_an_unassigned_conversation_of_their_queue_only() -> None:
    url = f"{ORG}/conversations/{{waiting}}/assign/"

    def take(actor: str, queue_name: str) -> int:
        built = build()
        waiting = Conversation.objects.get(
            organization_id=built["ids"]["org"], assignee__isnull=True, queue__name=queue_name
        )
        user = built["people"][actor]
        response = client_for(user).post(
            url.format(**built["ids"], waiting=waiting.pk), {"user_id": user.pk}, format="json"
        )
        return int(response.status_code)

    got = {actor: take(actor, "Geral") for actor in ("viewer", "agent_out", "agent_in", "admin")}

    assert got == {"viewer": 403, "agent_out": 404, "agent_in": 200, "admin": 200}


# Another organization's objects, asked for under the outsider's own organization: the same
# 404 as for something that never existed.
FOREIGN = [
    ("get", "conversations/{conversation}/", "inbox.not_found"),
    ("get", "conversations/{conversation}/messages/", "inbox.not_found"),
    ("post", "conversations/{conversation}/messages/", "inbox.not_found"),
    ("post", "conversations/{conversation}/status/", "inbox.not_found"),
    ("post", "conversations/{conversation}/merge/", "inbox.not_found"),
    ("get", "conversations/{conversation}/events/", "inbox.not_found"),
    ("get", "attachments/{attachment}/", "inbox.not_found"),
    ("get", "contacts/{contact}/", "inbox.not_found"),
    ("patch", "agents/{agent_in}/", "inbox.agent_not_found"),
    ("patch", "departments/{department}/", "inbox.department_not_found"),
    ("delete", "queues/{queue}/", "inbox.queue_not_found"),
    ("post", "queues/{queue}/members/", "inbox.queue_not_found"),
    ("delete", "canned/{canned}/", "inbox.not_found"),
]

WATCHED = (
    Conversation,
    Message,
    CannedResponse,
    Department,
    SupportQueue,
    QueueMember,
    SupportAgent,
)

BODIES: dict[str, Any] = {
    "messages/": {"body": "oi", "note": True},
    "status/": {"status": "resolved"},
    "merge/": {"source_id": "{source}"},
    "agents/{agent_in}/": {"capacity": 1},
    "departments/{department}/": {"name": "Tomado"},
    "members/": {"user_id": "{agent_in}"},
}


def everything() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: rows(model) for model in WATCHED}


@pytest.mark.parametrize(("method", "path", "code"), FOREIGN)
def test_an_admin_of_another_organization_never_reaches_this_ones_data(
    method: str, path: str, code: str
) -> None:
    built = build()
    ids = built["ids"]
    outsider = built["people"]["outsider"]
    # The outsider's organization has a conversation of its own (their merge source).
    foreign_queue = make.queue(outsider.memberships.get().organization)
    own = make.conversation(foreign_queue, assignee=outsider)
    body = next((value for key, value in BODIES.items() if path.endswith(key)), None)
    if path.endswith("merge/"):
        body = {"source_id": own.pk}
    url = f"/api/v1/inbox/{ids['outsider_org']}/" + path.format(**ids)
    before = everything()

    with committed():
        response = getattr(client_for(outsider), method)(url, fill(body, ids), format="json")

    assert_error(response, 404, code)
    assert everything() == before
