"""The support widget's REST API: keys, origins, CORS, visitor tokens, isolation, throttling."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core import mail, signing
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for, committed, rows
from chat.models import Attachment, Message, MessageKind
from chat.support import support_message_create
from queueing import inbox, widget
from queueing.models import Contact, Conversation, ConversationStatus, CsatResponse
from queueing.tests import inbox_factories as make

pytestmark = pytest.mark.django_db

ORIGIN = "https://escola.example"
API = "/api/v1/widget/"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 200, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


class Setup:
    def __init__(self) -> None:
        self.org = make.organization(name="Escola Demo")
        self.widget = make.widget(
            self.org,
            [ORIGIN],
            title="Fale conosco",
            greeting="Oi!",
            offline_email="sac@escola.example",
        )
        self.department = make.department(self.org, "Suporte")
        self.queue = make.queue(self.org, dept=self.department, strategy="manual")
        self.agent = make.agent(self.org, self.queue, display_name="Ana Lima")


@pytest.fixture
def setup() -> Setup:
    return Setup()


def call(
    method: str,
    path: str,
    *,
    key: str | None,
    token: str | None = None,
    origin: str | None = ORIGIN,
    data: Any = None,
    fmt: str | None = "json",
    language: str | None = None,
) -> Any:
    client = APIClient()
    headers: dict[str, str] = {}
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    if key is not None:
        headers["HTTP_X_WIDGET_KEY"] = key
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Visitor {token}"
    if language is not None:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    kwargs: dict[str, Any] = {}
    if data is not None:
        kwargs["data"] = data
        if fmt:
            kwargs["format"] = fmt
    return getattr(client, method)(API + path, **kwargs, **headers)


def session(setup: Setup, name: str = "Bia", email: str = "bia@example.com") -> tuple[str, Contact]:
    response = call(
        "post", "session/", key=setup.widget.public_key, data={"name": name, "email": email}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    return body["token"], Contact.objects.get(pk=body["contact"]["id"])


def start(setup: Setup, token: str, body: str = "Preciso de ajuda") -> dict[str, Any]:
    with committed():
        response = call(
            "post",
            "conversations/",
            key=setup.widget.public_key,
            token=token,
            data={"department_id": setup.department.pk, "body": body, "client_id": "c-1"},
        )
    assert response.status_code == 201, response.content
    return response.json()


# --- config, keys, origins, CORS -------------------------------------------------------------


def test_config_describes_the_widget_its_departments_and_hours(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget.timezone, "now", lambda: make.T0)  # Monday 10:00 in São Paulo
    setup.queue.weekly_hours = [{"day": 0, "start": "09:00", "end": "18:00"}]
    setup.queue.save()
    closed = make.department(setup.org, "Financeiro")
    make.queue(
        setup.org,
        dept=closed,
        name="Cobrança",
        weekly_hours=[{"day": 1, "start": "09:00", "end": "12:00"}],
        holidays=["2026-03-10"],
    )
    make.department(setup.org, "Antigo", is_active=False)

    response = call("get", "config/", key=setup.widget.public_key)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Vary"] == "Origin, Accept-Language, Cookie"
    assert response.json() == {
        "title": "Fale conosco",
        "greeting": "Oi!",
        "color": "#0f766e",
        "open_now": True,
        "departments": [
            {
                "id": closed.pk,
                "name": "Financeiro",
                "open_now": False,
                "time_zone": "America/Sao_Paulo",
                "weekly_hours": [{"day": 1, "start": "09:00", "end": "12:00"}],
                "holidays": ["2026-03-10"],
                # Tuesday is a holiday: the next Tuesday, 09:00 in São Paulo.
                "next_opening": "2026-03-17T09:00:00-03:00",
            },
            {
                "id": setup.department.pk,
                "name": "Suporte",
                "open_now": True,
                "time_zone": "America/Sao_Paulo",
                "weekly_hours": [{"day": 0, "start": "09:00", "end": "18:00"}],
                "holidays": [],
                "next_opening": "2026-03-09T10:00:00-03:00",
            },
        ],
        "ws_url": "ws://testserver/ws/widget/",
        "api_url": "http://testserver/api/v1/widget/",
    }


@pytest.mark.parametrize("change", ["offline", "busy", "full", "closed"])
def test_config_is_closed_when_no_agent_can_answer_now(
    setup: Setup, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from queueing.models import SupportAgent

    monkeypatch.setattr(widget.timezone, "now", lambda: make.T0)
    agent = SupportAgent.objects.get(user=setup.agent)
    if change == "offline":
        agent.connected = False
    elif change == "busy":
        agent.availability = "busy"
    elif change == "full":
        agent.open_count = agent.capacity
    else:
        setup.queue.weekly_hours = [{"day": 2, "start": "09:00", "end": "18:00"}]
        setup.queue.save()
    agent.save()

    body = call("get", "config/", key=setup.widget.public_key).json()

    assert (body["open_now"], [item["open_now"] for item in body["departments"]]) == (
        False,
        [False],
    )


def test_the_public_url_setting_names_the_socket_and_api(setup: Setup, settings: Any) -> None:
    settings.WIDGET_PUBLIC_URL = "https://atende.example/"

    body = call("get", "config/", key=setup.widget.public_key).json()

    assert (body["ws_url"], body["api_url"]) == (
        "wss://atende.example/ws/widget/",
        "https://atende.example/api/v1/widget/",
    )


@pytest.mark.parametrize("key", [None, "pk_unknown", "disabled"])
def test_an_unknown_or_disabled_key_is_not_found(setup: Setup, key: str | None) -> None:
    if key == "disabled":
        setup.widget.enabled = False
        setup.widget.save()
        key = setup.widget.public_key

    response = call("get", "config/", key=key)

    assert_error(response, 404, "widget.not_found")
    assert "Access-Control-Allow-Origin" not in response


def test_the_key_may_come_in_the_query_string(setup: Setup) -> None:
    response = APIClient().get(f"{API}config/?key={setup.widget.public_key}", HTTP_ORIGIN=ORIGIN)

    assert (response.status_code, response.json()["title"]) == (200, "Fale conosco")


ROUTES = [
    ("get", "config/"),
    ("post", "session/"),
    ("get", "conversations/"),
    ("post", "conversations/"),
    ("get", "conversations/{id}/"),
    ("get", "conversations/{id}/messages/"),
    ("post", "conversations/{id}/messages/"),
    ("post", "conversations/{id}/attachments/"),
    ("post", "conversations/{id}/csat/"),
    ("post", "conversations/{id}/transcript/"),
    ("get", "attachments/{id}/"),
    ("post", "offline/"),
    ("post", "session/in-app/"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://escola.example", "https://escola.example:8443", "null"],
)
def test_a_foreign_origin_is_refused_on_every_route(
    setup: Setup, method: str, path: str, origin: str
) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    before = (rows(Contact), rows(Conversation), rows(Message))

    response = call(
        method,
        path.format(id=conversation.pk),
        key=setup.widget.public_key,
        token=token,
        origin=origin,
        data={"name": "X", "email": "x@example.com", "body": "oi"} if method == "post" else None,
    )

    assert_error(response, 403, "widget.origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response
    assert (rows(Contact), rows(Conversation), rows(Message)) == before
    assert mail.outbox == []


def test_a_same_origin_request_needs_our_own_origin_listed(setup: Setup) -> None:
    refused = call("get", "config/", key=setup.widget.public_key, origin=None)
    setup.widget.allowed_origins = [ORIGIN, "http://testserver"]
    setup.widget.save()

    allowed = call("get", "config/", key=setup.widget.public_key, origin=None)
    # A sandboxed frame says "null": that is not us, even with our origin listed.
    sandboxed = call("get", "config/", key=setup.widget.public_key, origin="null")

    assert_error(refused, 403, "widget.origin_not_allowed")
    assert_error(sandboxed, 403, "widget.origin_not_allowed")
    assert allowed.status_code == 200
    # Same-origin: no CORS headers needed.
    assert "Access-Control-Allow-Origin" not in allowed


@pytest.mark.parametrize("with_key", [True, False])
def test_a_cors_preflight_from_an_allowed_origin_is_answered(setup: Setup, with_key: bool) -> None:
    query = f"?key={setup.widget.public_key}" if with_key else ""

    response = APIClient().options(
        f"{API}conversations/1/messages/{query}",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, x-widget-key",
    )

    assert response.status_code == 204
    assert {
        name: response[name]
        for name in (
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
            "Vary",
        )
    } == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Widget-Key",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin, Accept-Language, Cookie",
    }


@pytest.mark.parametrize("origin", ["https://evil.example", "https://escola.example.evil"])
def test_a_cors_preflight_from_another_origin_gets_no_go_ahead(setup: Setup, origin: str) -> None:
    other_org = make.organization()
    make.widget(other_org, ["https://other.example"])

    for query in ("", f"?key={setup.widget.public_key}"):
        response = APIClient().options(
            f"{API}conversations/{query}",
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert response.status_code == 204
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Headers" not in response


def test_a_preflight_with_a_key_checks_that_widgets_origins_only(setup: Setup) -> None:
    other = make.widget(make.organization(), ["https://other.example"])

    response = APIClient().options(
        f"{API}config/?key={other.public_key}",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert "Access-Control-Allow-Origin" not in response


# --- sessions and tokens ---------------------------------------------------------------------


def test_a_session_creates_a_contact_and_a_token(setup: Setup) -> None:
    response = call(
        "post",
        "session/",
        key=setup.widget.public_key,
        data={"name": "Bia", "email": "bia@example.com"},
    )

    contact = Contact.objects.get()
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {
        "token": response.json()["token"],
        "contact": {"id": contact.pk, "name": "Bia", "email": "bia@example.com"},
    }
    assert signing.loads(response.json()["token"], salt="queueing.widget.visitor") == {
        "o": setup.org.pk,
        "c": contact.pk,
        "v": contact.visitor_id.hex,
    }
    assert (contact.organization_id, contact.user_id) == (setup.org.pk, None)


def test_a_session_with_a_valid_token_renews_the_same_contact(setup: Setup) -> None:
    token, contact = session(setup)

    response = call(
        "post", "session/", key=setup.widget.public_key, token=token, data={"name": "Beatriz"}
    )

    assert response.status_code == 200
    assert response.json()["contact"] == {
        "id": contact.pk,
        "name": "Beatriz",
        "email": "bia@example.com",
    }
    assert Contact.objects.count() == 1


def test_a_session_with_a_bad_token_starts_over(setup: Setup) -> None:
    _token, old = session(setup)

    response = call("post", "session/", key=setup.widget.public_key, token="garbage", data={})

    assert response.status_code == 201
    assert response.json()["contact"]["id"] != old.pk
    assert Contact.objects.count() == 2


def test_an_email_never_finds_someone_elses_contact(setup: Setup) -> None:
    _token, first = session(setup, email="same@example.com")

    response = call(
        "post", "session/", key=setup.widget.public_key, data={"email": "same@example.com"}
    )

    assert response.json()["contact"]["id"] != first.pk


@pytest.mark.parametrize("case", ["other_org", "revoked", "expired", "tampered", "no_token"])
def test_a_token_that_is_not_valid_here_is_refused(setup: Setup, case: str, settings: Any) -> None:
    token, contact = session(setup)
    key = setup.widget.public_key
    if case == "other_org":
        key = make.widget(make.organization(), [ORIGIN]).public_key
    elif case == "revoked":
        Contact.objects.filter(pk=contact.pk).update(
            visitor_id="00000000-0000-0000-0000-000000000001"
        )
    elif case == "expired":
        settings.WIDGET_TOKEN_MAX_AGE_DAYS = 0
    elif case == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = call("get", "conversations/", key=key, token=None if case == "no_token" else token)

    if case == "no_token":
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 401, "widget.invalid_token")
        assert response["WWW-Authenticate"] == "Visitor"
    # The widget can read why (and start over).
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_a_signed_in_user_gets_the_in_app_contact_of_their_account(setup: Setup) -> None:
    student = make.member(make.organization(), role=Role.VIEWER, display_name="Caio Reis")
    client = client_for(student)

    first = client.post(
        f"{API}session/in-app/",
        HTTP_X_WIDGET_KEY=setup.widget.public_key,
        HTTP_ORIGIN="http://testserver",
    )
    again = client.post(f"{API}session/in-app/", HTTP_X_WIDGET_KEY=setup.widget.public_key)

    contact = Contact.objects.get()
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["contact"] == {
        "id": contact.pk,
        "name": "Caio Reis",
        "email": student.email,
    }
    assert again.json()["contact"]["id"] == contact.pk
    assert (contact.user_id, contact.organization_id) == (student.pk, setup.org.pk)
    # The in-app contact may use the widget API from our own site, unlisted as it is.
    token = first.json()["token"]
    with committed():
        started = call(
            "post",
            "conversations/",
            key=setup.widget.public_key,
            token=token,
            origin="http://testserver",
            data={"body": "Oi"},
        )
    assert started.status_code == 201
    assert Conversation.objects.get().channel == "in_app"


def test_the_in_app_session_needs_a_signed_in_user(setup: Setup) -> None:
    response = call(
        "post", "session/in-app/", key=setup.widget.public_key, origin="http://testserver"
    )

    assert_error(response, 401, "not_authenticated")
    assert Contact.objects.count() == 0


def test_a_widget_visitor_may_not_use_our_own_origin_unless_listed(setup: Setup) -> None:
    token, _contact = session(setup)

    response = call(
        "get",
        "conversations/",
        key=setup.widget.public_key,
        token=token,
        origin="http://testserver",
    )

    assert_error(response, 403, "widget.origin_not_allowed")


# --- conversations and messages --------------------------------------------------------------


def test_a_visitor_starts_a_conversation_and_sees_its_place_in_line(setup: Setup) -> None:
    token, contact = session(setup)
    ahead = make.conversation(
        setup.queue, waiting_since=timezone.now() - datetime.timedelta(minutes=5)
    )

    started = start(setup, token)

    conversation = Conversation.objects.get(contact=contact)
    assert started == {
        "id": conversation.pk,
        "status": "open",
        "assignee_name": None,
        "position": 2,
        "estimated_wait_seconds": None,
        "csat_requested": False,
        "rated": False,
    }
    assert (conversation.channel, conversation.queue_id) == ("widget", setup.queue.pk)
    listed = call("get", "conversations/", key=setup.widget.public_key, token=token)
    assert listed.json() == [started]
    assert ahead.contact_id != contact.pk


def test_a_second_start_posts_into_the_open_conversation(setup: Setup) -> None:
    token, _contact = session(setup)
    first = start(setup, token)

    with committed():
        again = call(
            "post",
            "conversations/",
            key=setup.widget.public_key,
            token=token,
            data={"body": "Alguém?"},
        )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(room__support_conversation=first["id"]).count() == 2


def test_the_visitor_reads_messages_without_notes_and_agents_by_first_name(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact, assignee=setup.agent)
    with committed():
        mine = inbox.contact_message_send(contact=contact, conversation=conversation, body="Oi")
        note = inbox.staff_message_send(
            actor=setup.agent, conversation=conversation, body="cliente VIP, cuidado", note=True
        )
        reply = inbox.staff_message_send(
            actor=setup.agent, conversation=conversation, body="Olá, **Bia**!"
        )

    response = call(
        "get",
        f"conversations/{conversation.pk}/messages/",
        key=setup.widget.public_key,
        token=token,
    )

    assert note.kind == MessageKind.NOTE
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": mine.pk,
                "conversation_id": conversation.pk,
                "kind": "text",
                "body": "Oi",
                "html": mine.html,
                "by_contact": True,
                "author": None,
                "attachments": [],
                "created_at": response.json()["results"][0]["created_at"],
                "client_id": None,
            },
            {
                "id": reply.pk,
                "conversation_id": conversation.pk,
                "kind": "text",
                "body": "Olá, **Bia**!",
                "html": reply.html,
                "by_contact": False,
                "author": {"id": setup.agent.pk, "name": "Ana", "avatar_url": None},
                "attachments": [],
                "created_at": response.json()["results"][1]["created_at"],
                "client_id": None,
            },
        ],
        "has_more": False,
    }
    assert "VIP" not in response.content.decode()


def test_messages_page_by_after_and_before(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    ids = [
        support_message_create(
            room=conversation.room, author_id=None, by_contact=True, body=f"m{number}"
        )[0].pk
        for number in range(5)
    ]
    support_message_create(
        room=conversation.room, author_id=setup.agent.pk, by_contact=False, body="n", kind="note"
    )
    path = f"conversations/{conversation.pk}/messages/"

    def page(query: str) -> tuple[list[int], bool]:
        body = call("get", path + query, key=setup.widget.public_key, token=token).json()
        return [item["id"] for item in body["results"]], body["has_more"]

    assert page("?limit=2") == (ids[3:], True)
    assert page(f"?limit=2&before={ids[3]}") == (ids[1:3], True)
    assert page(f"?after={ids[1]}&limit=2") == (ids[2:4], True)
    assert page(f"?after={ids[3]}") == (ids[4:], False)


def test_the_visitor_sends_a_message_and_a_retry_returns_it(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    path = f"conversations/{conversation.pk}/messages/"

    with committed():
        sent = call(
            "post",
            path,
            key=setup.widget.public_key,
            token=token,
            data={"body": "Oi", "client_id": "x1"},
        )
        retried = call(
            "post",
            path,
            key=setup.widget.public_key,
            token=token,
            data={"body": "Oi", "client_id": "x1"},
        )

    message = Message.objects.get(room=conversation.room)
    assert (sent.status_code, retried.status_code) == (201, 201)
    assert sent.json()["id"] == retried.json()["id"] == message.pk
    assert (message.by_contact, message.author_id, message.body) == (True, None, "Oi")


def test_posting_to_a_resolved_conversation_is_refused(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact, status=ConversationStatus.RESOLVED)

    response = call(
        "post",
        f"conversations/{conversation.pk}/messages/",
        key=setup.widget.public_key,
        token=token,
        data={"body": "Oi"},
    )

    assert_error(response, 409, "widget.conversation_resolved")
    assert Message.objects.count() == 0


# --- isolation -------------------------------------------------------------------------------


OWN_ROUTES = [
    ("get", "conversations/{id}/", None),
    ("get", "conversations/{id}/messages/", None),
    ("post", "conversations/{id}/messages/", {"body": "oi"}),
    ("post", "conversations/{id}/csat/", {"rating": 5}),
    ("post", "conversations/{id}/transcript/", {"email": "x@example.com"}),
    ("get", "attachments/{attachment}/", None),
]


@pytest.mark.parametrize(("method", "path", "data"), OWN_ROUTES)
def test_a_visitor_never_reaches_another_contacts_conversation(
    setup: Setup, method: str, path: str, data: Any
) -> None:
    token, _mine = session(setup)
    _other_token, other = session(setup, "Outro", "outro@example.com")
    theirs = make.conversation(setup.queue, who=other, status=ConversationStatus.RESOLVED)
    attachment = Attachment.objects.create(
        organization=setup.org,
        room=theirs.room,
        kind="file",
        file="x.txt",
        name="x.txt",
        content_type="text/plain",
        size=1,
    )
    before = (rows(Message), rows(CsatResponse))

    with committed():
        response = call(
            method,
            path.format(id=theirs.pk, attachment=attachment.pk),
            key=setup.widget.public_key,
            token=token,
            data=data,
        )

    assert_error(response, 404, "widget.not_found")
    assert (rows(Message), rows(CsatResponse)) == before
    assert mail.outbox == []


def test_a_visitor_never_uploads_into_another_contacts_conversation(setup: Setup) -> None:
    token, _mine = session(setup)
    theirs = make.conversation(setup.queue)

    response = call(
        "post",
        f"conversations/{theirs.pk}/attachments/",
        key=setup.widget.public_key,
        token=token,
        data={"file": io.BytesIO(png())},
        fmt="multipart",
    )

    assert_error(response, 404, "widget.not_found")
    assert Attachment.objects.count() == 0


def test_a_token_of_one_organization_never_reaches_another(setup: Setup) -> None:
    token, contact = session(setup)
    make.conversation(setup.queue, who=contact)
    other_widget = make.widget(make.organization(), [ORIGIN])

    response = call("get", "conversations/", key=other_widget.public_key, token=token)

    assert_error(response, 401, "widget.invalid_token")


# --- attachments -----------------------------------------------------------------------------


def test_a_visitor_uploads_sends_and_downloads_an_image(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    file = io.BytesIO(png())
    file.name = "foto.png"

    uploaded = call(
        "post",
        f"conversations/{conversation.pk}/attachments/",
        key=setup.widget.public_key,
        token=token,
        data={"file": file},
        fmt="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    attachment = Attachment.objects.get()
    with committed():
        sent = call(
            "post",
            f"conversations/{conversation.pk}/messages/",
            key=setup.widget.public_key,
            token=token,
            data={"attachment_ids": [attachment.pk]},
        )
    by_header = call(
        "get", f"attachments/{attachment.pk}/", key=setup.widget.public_key, token=token
    )
    signed_url = sent.json()["attachments"][0]["url"]
    by_signature = APIClient().get(signed_url.removeprefix("http://testserver"))

    assert uploaded.status_code == 201
    assert uploaded.json()["id"] == attachment.pk
    assert (attachment.uploaded_by_id, attachment.room_id) == (None, conversation.room_id)
    assert signed_url.startswith(
        f"http://testserver/api/v1/widget/attachments/{attachment.pk}/?sig="
    )
    for response in (by_header, by_signature):
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == png()
        assert response["Content-Type"] == "image/png"
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_a_signed_attachment_url_works_for_that_attachment_only_and_expires(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    attachment = Attachment.objects.create(
        organization=setup.org,
        room=conversation.room,
        kind="file",
        file="a.txt",
        name="a.txt",
        content_type="text/plain",
        size=1,
    )
    signature = widget.attachment_sign(attachment_id=attachment.pk + 1, contact_id=contact.pk)

    wrong = APIClient().get(f"{API}attachments/{attachment.pk}/?sig={signature}")
    monkeypatch.setattr(widget, "ATTACHMENT_URL_MAX_AGE_SECONDS", -1)
    good_but_old = widget.attachment_sign(attachment_id=attachment.pk, contact_id=contact.pk)
    expired = APIClient().get(f"{API}attachments/{attachment.pk}/?sig={good_but_old}")

    assert_error(wrong, 404, "widget.not_found")
    assert_error(expired, 404, "widget.not_found")


def test_an_attachment_of_a_note_is_never_served_to_the_visitor(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact, assignee=setup.agent)
    note, _ = support_message_create(
        room=conversation.room, author_id=setup.agent.pk, by_contact=False, body="nota", kind="note"
    )
    attachment = Attachment.objects.create(
        organization=setup.org,
        room=conversation.room,
        message=note,
        uploaded_by=setup.agent,
        kind="file",
        file="n.txt",
        name="n.txt",
        content_type="text/plain",
        size=1,
    )
    staff_upload = Attachment.objects.create(
        organization=setup.org,
        room=conversation.room,
        uploaded_by=setup.agent,
        kind="file",
        file="s.txt",
        name="s.txt",
        content_type="text/plain",
        size=1,
    )
    signature = widget.attachment_sign(attachment_id=attachment.pk, contact_id=contact.pk)

    for response in (
        call("get", f"attachments/{attachment.pk}/", key=setup.widget.public_key, token=token),
        APIClient().get(f"{API}attachments/{attachment.pk}/?sig={signature}"),
        call("get", f"attachments/{staff_upload.pk}/", key=setup.widget.public_key, token=token),
    ):
        assert_error(response, 404, "widget.not_found")


# --- throttling ------------------------------------------------------------------------------


def test_a_flood_of_messages_is_throttled_per_contact(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from queueing.api.widget import WidgetThrottle

    # A still clock: the wait is exactly the window.
    monkeypatch.setattr(WidgetThrottle, "timer", lambda self: 1_000_000.0)
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact)
    _other_token, other = session(setup, "Outro", "o@example.com")
    other_conversation = make.conversation(setup.queue, who=other)
    path = f"conversations/{conversation.pk}/messages/"

    with committed():
        statuses = [
            call(
                "post", path, key=setup.widget.public_key, token=token, data={"body": f"m{n}"}
            ).status_code
            for n in range(20)
        ]
        refused = call("post", path, key=setup.widget.public_key, token=token, data={"body": "m20"})
        reading = call("get", path, key=setup.widget.public_key, token=token)
        someone_else = call(
            "post",
            f"conversations/{other_conversation.pk}/messages/",
            key=setup.widget.public_key,
            token=_other_token,
            data={"body": "oi"},
        )

    assert statuses == [201] * 20, statuses
    assert_error(refused, 429, "widget.throttled", {"wait": 60})
    assert refused["Access-Control-Allow-Origin"] == ORIGIN
    assert Message.objects.filter(room=conversation.room).count() == 20
    assert reading.status_code == 200
    assert someone_else.status_code == 201


def test_everything_else_is_throttled_per_ip_before_a_session(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from queueing.api.widget import WidgetThrottle

    monkeypatch.setattr(WidgetThrottle, "rate", "3/min", raising=False)

    statuses = [call("get", "config/", key=setup.widget.public_key).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


# --- CSAT, transcript, offline ---------------------------------------------------------------


def test_the_visitor_rates_a_resolved_conversation_once(setup: Setup) -> None:
    token, contact = session(setup)
    conversation = make.conversation(
        setup.queue, who=contact, assignee=setup.agent, status=ConversationStatus.RESOLVED
    )
    path = f"conversations/{conversation.pk}/csat/"

    with committed():
        rated = call(
            "post",
            path,
            key=setup.widget.public_key,
            token=token,
            data={"rating": 5, "comment": "Ótimo"},
        )
        again = call("post", path, key=setup.widget.public_key, token=token, data={"rating": 1})
    shown = call(
        "get", f"conversations/{conversation.pk}/", key=setup.widget.public_key, token=token
    )

    assert (rated.status_code, rated.json()) == (201, {"rating": 5, "comment": "Ótimo"})
    assert_error(again, 409, "widget.already_rated")
    assert (shown.json()["rated"], shown.json()["csat_requested"]) == (True, False)
    assert list(CsatResponse.objects.values_list("rating", "agent_id")) == [(5, setup.agent.pk)]


def test_the_transcript_email_has_what_the_visitor_saw_and_no_note(
    setup: Setup, settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Atende <no-reply@atende.example>"
    token, contact = session(setup)
    conversation = make.conversation(setup.queue, who=contact, assignee=setup.agent)
    with committed():
        first = inbox.contact_message_send(
            contact=contact, conversation=conversation, body="Oi, preciso de ajuda"
        )
        inbox.staff_message_send(
            actor=setup.agent, conversation=conversation, body="segredo interno", note=True
        )
        reply = inbox.staff_message_send(
            actor=setup.agent, conversation=conversation, body="Claro, **Bia**!"
        )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=make.T0)
    Message.objects.filter(pk=first.pk).update(created_at=make.at(60))
    Message.objects.filter(pk=reply.pk).update(created_at=make.at(120))

    with committed():
        response = call(
            "post",
            f"conversations/{conversation.pk}/transcript/",
            key=setup.widget.public_key,
            token=token,
            data={},
            language="en",
        )

    assert (response.status_code, response.json()) == (202, {"email": "bia@example.com"})
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert (email.to, email.from_email, email.subject) == (
        ["bia@example.com"],
        "Atende <no-reply@atende.example>",
        "Your conversation with Escola Demo",
    )
    assert email.body == (
        "Hello, Bia.\n"
        "\n"
        "Here is your conversation with Escola Demo, started on 09/03/2026 10:00.\n"
        "\n"
        "[10:01] Bia:\n"
        "Oi, preciso de ajuda\n"
        "\n"
        "[10:02] Ana:\n"
        "Claro, Bia!\n"
        "\n"
        "You get this email because you asked for the transcript of this conversation.\n\n"
    )
    html = email.alternatives[0][0]
    assert "segredo interno" not in email.body and "segredo interno" not in html


def test_the_offline_form_creates_a_conversation_and_emails_the_organization(
    setup: Setup, settings: Any
) -> None:
    settings.SITE_URL = "https://atende.example"
    with committed():
        response = call(
            "post",
            "offline/",
            key=setup.widget.public_key,
            data={
                "name": "Bia",
                "email": "bia@example.com",
                "department_id": setup.department.pk,
                "body": "Quero o boleto",
            },
            language="en",
        )

    contact = Contact.objects.get()
    conversation = Conversation.objects.get()
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "token": body["token"],
        "contact": {"id": contact.pk, "name": "Bia", "email": "bia@example.com"},
        "conversation": {
            "id": conversation.pk,
            "status": "open",
            "assignee_name": None,
            "position": 1,
            "estimated_wait_seconds": None,
            "csat_requested": False,
            "rated": False,
        },
    }
    assert widget.visitor_contact_from_token(widget=setup.widget, token=body["token"]) == contact
    assert (conversation.offline, conversation.contact_id, conversation.queue_id) == (
        True,
        contact.pk,
        setup.queue.pk,
    )
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert (email.to, email.reply_to, email.subject) == (
        ["sac@escola.example"],
        ["bia@example.com"],
        "New offline message from Bia",
    )
    assert email.body == (
        "Bia left a message for Suporte while nobody was answering.\n"
        "\n"
        "Name: Bia\n"
        "Email: bia@example.com\n"
        "\n"
        "Quero o boleto\n"
        "\n"
        f"Answer it in the inbox: https://atende.example/inbox/{conversation.pk}\n\n"
    )


def test_an_offline_message_that_is_refused_leaves_no_contact(setup: Setup) -> None:
    other_department = make.department(make.organization(), "Alheio")
    before = rows(Contact)

    with committed():
        response = call(
            "post",
            "offline/",
            key=setup.widget.public_key,
            data={
                "name": "Bia",
                "email": "bia@example.com",
                "department_id": other_department.pk,
                "body": "Oi",
            },
        )

    assert_error(response, 422, "widget.invalid_department")
    assert (rows(Contact), Conversation.objects.count(), mail.outbox) == (before, 0, [])
