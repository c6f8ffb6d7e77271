"""The support widget on someone else's website, from the visitor's side.

The page that embeds the widget is plain HTML served by another server (another origin, see
`widget_pages.py`), with nothing of Atende on it but the `<script>` tag, like a school's own
site. The visitor starts a conversation and sees their place in line; an agent takes it and
replies (through the staff REST API of the running server, so its events travel like in
production); the visitor hears the message sound, reloads and finds the conversation again;
the agent's internal note never reaches the visitor; the agent resolves it and the visitor
rates it 5 stars. A page on an origin the widget does not allow gets nothing.

The visitor's browser reads Brazilian Portuguese (the widget's default language).
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import AccessToken

from chat.models import Attachment, Message
from queueing.models import Conversation, ConversationStatus, CsatResponse
from queueing.tests import inbox_factories as make
from tests_browser.conftest import Outbox
from tests_browser.widget_pages import PlainPages, plain_page_server  # noqa: F401

pytestmark = pytest.mark.browser

# Counts the sounds the page really plays (the widget's unlock plays once, muted).
COUNT_PLAYS = """
window.__plays = [];
const originalPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!this.muted) window.__plays.push(this.src);
  return originalPlay.call(this);
};
"""


class Staff:
    """An agent using the staff REST API of the live server (a JWT, like the mobile app)."""

    def __init__(self, base_url: str, user: Any, organization_id: int) -> None:
        self.base = f"{base_url}/api/v1/inbox/{organization_id}"
        self.token = str(AccessToken.for_user(user))

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.base}/{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


class StaffSocket:
    """The agent's own realtime socket (/ws/, as the inbox app opens it), in its own page."""

    def __init__(self, browser: Any, base_url: str, user: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.goto(f"{base_url}/healthz")
        token = str(AccessToken.for_user(user))
        self.page.evaluate(
            """(url) => new Promise((resolve, reject) => {
              window.__frames = [];
              window.__socket = new WebSocket(url);
              window.__socket.onmessage = (event) => window.__frames.push(JSON.parse(event.data));
              window.__socket.onopen = resolve;
              window.__socket.onerror = reject;
            })""",
            base_url.replace("http", "ws", 1) + f"/ws/?token={token}",
        )

    def send(self, frame: dict[str, Any]) -> None:
        self.page.evaluate("(frame) => window.__socket.send(JSON.stringify(frame))", frame)

    def frames(self, kind: str) -> list[dict[str, Any]]:
        frames = self.page.evaluate("window.__frames")
        return [frame["data"] for frame in frames if frame["type"] == kind]

    def subscribe(self, topic: str) -> None:
        self.send({"action": "subscribe", "topic": topic})
        wait_for(lambda: {"topic": topic} in self.frames("realtime.subscribed"), f"{topic}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(
    plain_page_server: PlainPages,  # noqa: F811 - the fixture imported above
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A visitor's page (no base URL: they are on the school's site, not on Atende)."""
    expect.set_options(timeout=15_000)
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
    context.add_init_script(COUNT_PLAYS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def wait_for(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}.", pytrace=False)
        time.sleep(0.2)


def png_bytes() -> bytes:
    """An 8x8 PNG, a photo as far as the upload checks are concerned."""
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(output, format="PNG")
    return output.getvalue()


def shown_messages(page: Any) -> list[tuple[str, str]]:
    items = page.get_by_test_id("widget-message")
    return [
        (items.nth(index).get_attribute("data-by"), items.nth(index).locator("p").inner_text())
        for index in range(items.count())
    ]


def test_a_visitor_on_another_site_talks_to_an_agent_and_rates_the_conversation(
    visitor: Any,
    browser: Any,
    plain_page_server: PlainPages,  # noqa: F811
    live_server_url: str,
) -> None:
    org = make.organization(name="Escola Exemplo")
    department = make.department(org, "Secretaria")
    support = make.queue(org, dept=department, name="Matrículas", strategy="manual")
    agent = make.agent(org, support, display_name="Ana Souza", email="ana@example.com")
    widget = make.widget(
        org, [plain_page_server.origin], title="Fale com a Escola", greeting="Olá! Como ajudamos?"
    )
    staff = Staff(live_server_url, agent, org.pk)
    url = plain_page_server.widget_page(widget.public_key)

    # Given the school's page, whose only Atende part is the script tag
    visitor.goto(url)
    launcher = visitor.get_by_test_id("widget-launcher")
    expect(launcher).to_be_visible()
    # The page's own CSS (red buttons) does not reach into the widget's shadow root
    assert launcher.evaluate("(node) => getComputedStyle(node).color") == "rgb(255, 255, 255)"
    panel = visitor.get_by_test_id("widget-panel")
    expect(panel).to_be_hidden()

    # When the visitor opens it and fills in the pre-chat form
    launcher.click()
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Fale com a Escola")).to_be_visible()
    expect(panel).to_contain_text("Olá! Como ajudamos?")
    visitor.get_by_test_id("prechat-name").fill("Bruno Lima")
    visitor.get_by_test_id("prechat-email").fill("bruno@example.com")
    expect(visitor.get_by_test_id("prechat-department")).to_have_value(str(department.pk))
    visitor.get_by_test_id("prechat-message").fill("Quero saber das matrículas de 2026.")
    visitor.get_by_test_id("prechat-submit").click()

    # Then they are first in line, with their message shown
    expect(visitor.get_by_test_id("widget-position")).to_have_text(
        re.compile(r"^Você é o número 1 na fila( \(cerca de \d+ min\))?$")
    )
    expect(visitor.get_by_test_id("widget-message")).to_have_count(1)
    assert shown_messages(visitor) == [("contact", "Quero saber das matrículas de 2026.")]
    conversation = Conversation.objects.select_related("contact").get()
    assert (
        conversation.organization_id,
        conversation.queue_id,
        conversation.status,
        conversation.assignee_id,
        conversation.channel,
        conversation.contact.name,
        conversation.contact.email,
    ) == (
        org.pk,
        support.pk,
        ConversationStatus.OPEN,
        None,
        "widget",
        "Bruno Lima",
        "bruno@example.com",
    )
    assert conversation.waiting_since is not None
    expect(visitor.get_by_test_id("widget-agent")).to_be_hidden()

    # When the agent takes the conversation and replies
    status, _body = staff.post(f"conversations/{conversation.pk}/assign/", {"user_id": agent.pk})
    assert status == 200
    expect(visitor.get_by_test_id("widget-agent")).to_have_text("Você está falando com Ana")
    expect(visitor.get_by_test_id("widget-position")).to_be_hidden()

    # Typing shows both ways: the agent's (from the inbox app's socket) and the visitor's
    agent_socket = StaffSocket(browser, live_server_url, agent)
    agent_socket.subscribe(f"queueing.conversation.{conversation.pk}")
    agent_socket.send({"action": "inbox.typing", "conversation_id": conversation.pk})
    expect(visitor.get_by_test_id("widget-typing")).to_have_text("Ana está digitando…")
    visitor.get_by_test_id("widget-input").press_sequentially("Oi")

    def visitor_typing() -> list[dict[str, Any]]:
        return [data for data in agent_socket.frames("inbox.typing") if data["contact"]]

    wait_for(lambda: visitor_typing() != [], "the visitor typing")
    assert visitor_typing() == [{"conversation_id": conversation.pk, "contact": True}]
    agent_socket.close()

    status, _body = staff.post(
        f"conversations/{conversation.pk}/messages/",
        {"body": "Olá, Bruno! As matrículas abrem em março.", "client_id": "reply-1"},
    )
    assert status == 201

    # Then the visitor sees the reply and hears the message sound
    expect(visitor.get_by_test_id("widget-message")).to_have_count(2)
    assert shown_messages(visitor) == [
        ("contact", "Quero saber das matrículas de 2026."),
        ("agent", "Olá, Bruno! As matrículas abrem em março."),
    ]
    # (and the agent's typing indicator went away with their message)
    expect(visitor.get_by_test_id("widget-typing")).to_have_text("")
    visitor.wait_for_function("window.__plays.length === 1")
    assert visitor.evaluate("window.__plays") == [f"{live_server_url}/static/sounds/message.wav"]

    # When the visitor answers with a photo (previewed before sending), reloads the page and
    # opens the widget again
    visitor.get_by_test_id("widget-file").set_input_files(
        {"name": "comprovante.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    preview = visitor.get_by_test_id("widget-attachment-preview")
    expect(preview).to_contain_text("comprovante.png")
    assert preview.locator("img").evaluate("(img) => img.complete && img.naturalWidth") == 8
    visitor.get_by_test_id("widget-input").fill("Obrigado! E o valor?")
    visitor.get_by_test_id("widget-send").click()
    expect(visitor.get_by_test_id("widget-message")).to_have_count(3)
    expect(preview).to_have_count(0)
    photo = (
        visitor.get_by_test_id("widget-message").nth(2).get_by_test_id("widget-attachment-image")
    )
    expect(photo).to_have_js_property("naturalWidth", 8)
    visitor.reload()
    visitor.get_by_test_id("widget-launcher").click()

    # Then the conversation is restored, with the agent's name
    expect(visitor.get_by_test_id("widget-message")).to_have_count(3)
    assert shown_messages(visitor) == [
        ("contact", "Quero saber das matrículas de 2026."),
        ("agent", "Olá, Bruno! As matrículas abrem em março."),
        ("contact", "Obrigado! E o valor?"),
    ]
    expect(visitor.get_by_test_id("widget-agent")).to_have_text("Você está falando com Ana")
    expect(photo).to_have_js_property("naturalWidth", 8)

    # When the agent writes an internal note, then another reply
    status, _body = staff.post(
        f"conversations/{conversation.pk}/messages/",
        {"body": "Aluno antigo, oferecer desconto", "note": True, "client_id": "note-1"},
    )
    assert status == 201
    status, _body = staff.post(
        f"conversations/{conversation.pk}/messages/",
        {"body": "O valor é R$ 500 por mês.", "client_id": "reply-2"},
    )
    assert status == 201

    # Then the visitor gets the reply and never the note
    expect(visitor.get_by_test_id("widget-message")).to_have_count(4)
    assert shown_messages(visitor) == [
        ("contact", "Quero saber das matrículas de 2026."),
        ("agent", "Olá, Bruno! As matrículas abrem em março."),
        ("contact", "Obrigado! E o valor?"),
        ("agent", "O valor é R$ 500 por mês."),
    ]
    expect(visitor.get_by_test_id("widget-panel")).not_to_contain_text("desconto")

    # When the agent resolves the conversation
    status, _body = staff.post(f"conversations/{conversation.pk}/status/", {"status": "resolved"})
    assert status == 200

    # Then the visitor rates it 5 stars with a comment
    csat = visitor.get_by_test_id("csat-form")
    expect(csat).to_be_visible()
    expect(visitor.get_by_test_id("widget-input")).to_be_hidden()
    visitor.get_by_test_id("csat-star-5").click()
    visitor.get_by_test_id("csat-comment").fill("Muito rápido, obrigado!")
    visitor.get_by_test_id("csat-submit").click()
    expect(visitor.get_by_test_id("csat-thanks")).to_have_text("Obrigado pela avaliação!")
    rating = CsatResponse.objects.get()
    assert (rating.conversation_id, rating.rating, rating.comment) == (
        conversation.pk,
        5,
        "Muito rápido, obrigado!",
    )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id) == (
        ConversationStatus.RESOLVED,
        agent.pk,
    )
    assert list(
        Message.objects.filter(room=conversation.room)
        .order_by("pk")
        .values_list("kind", "by_contact", "body")
    ) == [
        ("text", True, "Quero saber das matrículas de 2026."),
        ("text", False, "Olá, Bruno! As matrículas abrem em março."),
        ("text", True, "Obrigado! E o valor?"),
        ("note", False, "Aluno antigo, oferecer desconto"),
        ("text", False, "O valor é R$ 500 por mês."),
    ]
    assert list(
        Attachment.objects.values_list(
            "room_id", "message__body", "uploaded_by_id", "kind", "name", "content_type"
        )
    ) == [
        (
            conversation.room_id,
            "Obrigado! E o valor?",
            None,
            "image",
            "comprovante.png",
            "image/png",
        )
    ]

    # And they may start a new conversation, with their name and e-mail kept
    visitor.get_by_test_id("widget-new-conversation").click()
    expect(visitor.get_by_test_id("prechat-name")).to_have_value("Bruno Lima")
    expect(visitor.get_by_test_id("prechat-email")).to_have_value("bruno@example.com")


def test_a_page_on_an_origin_the_widget_does_not_allow_shows_nothing(
    visitor: Any,
    plain_page_server: PlainPages,  # noqa: F811
    live_server_url: str,
) -> None:
    org = make.organization()
    make.queue(org, strategy="manual")
    widget = make.widget(org, ["https://www.escola.example"])
    failed: list[str] = []
    visitor.on("requestfailed", lambda request: failed.append(request.url))
    warnings: list[str] = []
    visitor.on(
        "console", lambda message: message.type == "warning" and warnings.append(message.text)
    )

    visitor.goto(plain_page_server.widget_page(widget.public_key))

    visitor.wait_for_function(
        f"() => window.__atendeWidgets['{widget.public_key}'].refused !== undefined"
    )
    # The browser refused to read the answer (no CORS headers for that origin)...
    assert failed == [f"{live_server_url}/api/v1/widget/config/"]
    assert visitor.locator("[data-atende-widget]").count() == 0
    expect(visitor.get_by_test_id("widget-launcher")).to_have_count(0)
    assert warnings == [
        "Atende widget: unavailable on this page (is its origin among the widget's allowed "
        "origins?)"
    ]
    # ...which was the server's refusal of that origin
    request = urllib.request.Request(
        f"{live_server_url}/api/v1/widget/config/?key={widget.public_key}",
        headers={"Origin": plain_page_server.origin},
    )
    with pytest.raises(urllib.error.HTTPError) as refusal:
        urllib.request.urlopen(request, timeout=15)
    assert refusal.value.code == 403
    assert json.loads(refusal.value.read())["code"] == "widget.origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refusal.value.headers


def test_the_demo_page_embeds_the_first_enabled_widget_which_takes_messages_offline(
    page: Any, live_server_url: str, orm: None, outbox: Outbox
) -> None:
    org = make.organization(name="Escola Atende Demo")
    make.queue(org, strategy="manual")
    make.widget(org, ["https://elsewhere.example"], enabled=False)
    other = make.organization()
    department = make.department(other, "Secretaria")
    make.queue(other, dept=department, strategy="manual")
    widget = make.widget(
        other, [live_server_url], title="Ajuda", offline_email="secretaria@example.com"
    )

    page.goto("/widget/demo/")

    expect(page.get_by_role("heading", level=1, name="Escola Demo")).to_be_visible()
    script = page.locator("script[data-key]")
    assert script.get_attribute("data-key") == widget.public_key
    assert script.get_attribute("src") == "/static/widget/widget.js"

    # The demo page's own origin is allowed (same origin); nobody is online: the offline form
    page.get_by_test_id("widget-launcher").click()
    expect(page.get_by_test_id("widget-panel").get_by_role("heading", name="Ajuda")).to_be_visible()
    form = page.get_by_test_id("widget-offline-form")
    expect(form).to_contain_text("Estamos fora do horário de atendimento.")
    form.get_by_label("Nome").fill("Carla Dias")
    form.get_by_label("E-mail").fill("carla@example.com")
    form.get_by_label("Mensagem").fill("Vocês têm curso noturno?")
    page.get_by_test_id("offline-submit").click()

    expect(page.get_by_test_id("widget-offline-sent")).to_have_text(
        "Recebemos sua mensagem. Responderemos por e-mail assim que possível."
    )
    conversation = Conversation.objects.select_related("contact").get()
    assert (
        conversation.organization_id,
        conversation.offline,
        conversation.contact.name,
        conversation.contact.email,
    ) == (other.pk, True, "Carla Dias", "carla@example.com")
    assert list(
        Message.objects.filter(room=conversation.room).values_list("by_contact", "body")
    ) == [(True, "Vocês têm curso noturno?")]
    assert "Vocês têm curso noturno?" in outbox.latest_email_to("secretaria@example.com")


def test_the_demo_page_is_not_found_without_an_enabled_widget(
    page: Any, live_server_url: str, orm: None
) -> None:
    org = make.organization()
    make.widget(org, [live_server_url], enabled=False)

    response = page.goto("/widget/demo/")

    assert response is not None
    assert response.status == 404
