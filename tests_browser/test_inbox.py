"""The support inbox end to end: a visitor on a school's own site and two agents in the app.

The visitor's page is plain HTML on another origin with only the widget's `<script>` tag
(`widget_pages.py`). They start a conversation and see their place in line; Ana, an agent of
a manual queue, pulls it in the inbox, they talk, Ana adds an internal note the visitor never
sees and transfers the conversation to Carlos with a note; Carlos finds it in his inbox,
replies and resolves it, and the visitor rates it. Each side shows exactly its part.

The agents read the app in English (profile and browser); the visitor's browser reads
Brazilian Portuguese, the widget's default.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import AccessToken

from accounts.roles import Role
from accounts.tests.factories import PASSWORD
from chat.models import Message
from queueing.models import CannedResponse, Conversation, ConversationStatus, CsatResponse
from queueing.tests import inbox_factories as make
from tests_browser.widget_pages import PlainPages, plain_page_server  # noqa: F401

pytestmark = pytest.mark.browser


class Browsers:
    """One browser context per person; no page may end with an uncaught error."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, *, locale: str, base_url: str | None = None) -> Any:
        options: dict[str, Any] = {"locale": locale, "viewport": {"width": 1400, "height": 900}}
        if base_url:
            options["base_url"] = base_url
        context = self.browser.new_context(**options)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(
    live_server_url: str,
    plain_page_server: PlainPages,  # noqa: F811 - the fixture imported above
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Browsers]:
    # Cold starts of the first page (catalog, modules, socket) can exceed the 5 s default.
    expect.set_options(timeout=15_000)
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    opened = Browsers(browser, live_server_url)
    yield opened
    opened.close()
    assert opened.errors == []


def staff_post(base_url: str, user: Any, path: str, body: dict[str, Any]) -> int:
    """POST to the staff inbox API as `user` (a JWT, like the mobile app); the status."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/inbox/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {AccessToken.for_user(user)}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def sign_in_to_inbox(page: Any, email: str) -> None:
    page.goto("/signin?next=/inbox")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    # Live: the socket is up and the inbox's topics are confirmed by the server.
    expect(page.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("inbox")).to_have_attribute("data-live", "true")
    expect(page.get_by_test_id("availability")).to_have_value("online")


def visitor_messages(page: Any) -> list[tuple[str, str]]:
    items = page.get_by_test_id("widget-message")
    return [
        (items.nth(index).get_attribute("data-by"), items.nth(index).locator("p").inner_text())
        for index in range(items.count())
    ]


def agent_messages(page: Any) -> list[tuple[str, str, str]]:
    """(who wrote, kind, text) of each message of the open conversation."""
    items = page.get_by_test_id("inbox-message")
    return [
        (
            items.nth(index).get_attribute("data-by"),
            items.nth(index).get_attribute("data-kind"),
            items.nth(index).locator(".message-body").inner_text().strip(),
        )
        for index in range(items.count())
    ]


def send(page: Any, text: str, *, note: bool = False) -> None:
    page.get_by_test_id("composer-tab-note" if note else "composer-tab-reply").click()
    page.get_by_test_id("inbox-composer-input").fill(text)
    page.get_by_test_id("inbox-send").click()
    expect(page.get_by_test_id("inbox-composer-input")).to_have_value("")


def test_a_visitor_is_served_by_two_agents_who_transfer_and_resolve_and_is_asked_to_rate(
    browsers: Browsers,
    plain_page_server: PlainPages,  # noqa: F811
    live_server_url: str,
) -> None:
    org = make.organization(name="Escola Exemplo")
    secretaria = make.department(org, "Secretaria")
    enrolment = make.queue(
        org, dept=secretaria, name="Matrículas", strategy="manual", first_response_minutes=30
    )
    ana = make.agent(
        org, enrolment, display_name="Ana Souza", email="ana@example.com", language="en"
    )
    carlos = make.agent(
        org, enrolment, display_name="Carlos Dias", email="carlos@example.com", language="en"
    )
    widget = make.widget(org, [plain_page_server.origin], title="Fale com a Escola")

    # Given both agents in their inbox, with nothing waiting
    ana_page = browsers.page(locale="en-US", base_url=live_server_url)
    carlos_page = browsers.page(locale="en-US", base_url=live_server_url)
    sign_in_to_inbox(ana_page, "ana@example.com")
    sign_in_to_inbox(carlos_page, "carlos@example.com")
    expect(ana_page.get_by_test_id("inbox-item")).to_have_count(0)
    expect(ana_page.get_by_test_id("view-unassigned-count")).to_have_text("0")

    # When a visitor on the school's site starts a conversation
    visitor = browsers.page(locale="pt-BR")
    visitor.goto(plain_page_server.widget_page(widget.public_key))
    visitor.get_by_test_id("widget-launcher").click()
    visitor.get_by_test_id("prechat-name").fill("Bruno Lima")
    visitor.get_by_test_id("prechat-email").fill("bruno@example.com")
    visitor.get_by_test_id("prechat-message").fill("Quero saber das matrículas de 2026.")
    visitor.get_by_test_id("prechat-submit").click()

    # Then they are first in line
    expect(visitor.get_by_test_id("widget-position")).to_have_text(
        re.compile(r"^Você é o número 1 na fila( \(cerca de \d+ min\))?$")
    )
    conversation = Conversation.objects.get()

    # And the agents see it waiting, live, with its SLA countdown and its waiting time
    for page in (ana_page, carlos_page):
        expect(page.get_by_test_id("view-unassigned-count")).to_have_text("1")
        expect(page.get_by_test_id("view-mine-count")).to_have_text("0")
    ana_page.get_by_test_id("view-unassigned").click()
    item = ana_page.get_by_test_id("inbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Bruno Lima")
    expect(item).to_contain_text("Quero saber das matrículas de 2026.")
    expect(item.get_by_test_id("sla-chip")).to_have_text(re.compile(r"^Reply in (29|30):\d\d$"))
    expect(item.get_by_test_id("sla-chip")).to_have_attribute("data-state", "ok")
    expect(item.locator(".waiting-chip")).to_have_text(re.compile(r"^Waiting 0:\d\d$"))

    # When Ana pulls the next conversation of her (manual) queue
    ana_page.get_by_test_id("pull-next").click()

    # Then it opens for her, assigned to her, and the visitor learns who is answering
    expect(ana_page).to_have_url(f"{live_server_url}/inbox/{conversation.pk}")
    expect(ana_page.get_by_test_id("conversation-title")).to_have_text("Bruno Lima")
    expect(ana_page.get_by_test_id("conversation-assignee")).to_have_text("Assigned to Ana Souza")
    expect(ana_page.get_by_test_id("view-mine-count")).to_have_text("1")
    expect(visitor.get_by_test_id("widget-agent")).to_have_text("Você está falando com Ana")
    expect(visitor.get_by_test_id("widget-position")).to_be_hidden()
    expect(carlos_page.get_by_test_id("view-unassigned-count")).to_have_text("0")

    # When they talk
    send(ana_page, "Olá, Bruno! As matrículas abrem em março.")
    expect(visitor.get_by_test_id("widget-message")).to_have_count(2)
    visitor.get_by_test_id("widget-input").fill("Obrigado! Tem desconto para irmãos?")
    visitor.get_by_test_id("widget-send").click()
    expect(ana_page.get_by_test_id("inbox-message")).to_have_count(3)

    # And Ana writes an internal note, then transfers to Carlos with a note for him
    send(ana_page, "Irmão já estuda aqui: verificar desconto.", note=True)
    expect(ana_page.get_by_test_id("note-badge")).to_have_count(1)
    ana_page.get_by_test_id("transfer-conversation").click()
    dialog = ana_page.get_by_test_id("transfer-dialog")
    dialog.get_by_test_id("transfer-kind").select_option("user_id")
    dialog.get_by_test_id("transfer-target").select_option(str(carlos.pk))
    dialog.get_by_test_id("transfer-note").fill("Carlos cuida dos descontos.")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog).to_have_count(0)

    # Then Ana sees it is Carlos's now and can only add notes
    expect(ana_page.get_by_test_id("conversation-assignee")).to_have_text("Assigned to Carlos Dias")
    expect(ana_page.get_by_test_id("composer-tab-reply")).to_be_disabled()
    expect(ana_page.get_by_test_id("view-mine-count")).to_have_text("0")

    # And Carlos finds it in his own view, with the whole history, notes included
    expect(carlos_page.get_by_test_id("view-mine-count")).to_have_text("1")
    carlos_page.get_by_test_id("view-mine").click()
    carlos_page.get_by_test_id("inbox-item").click()
    expect(carlos_page).to_have_url(f"{live_server_url}/inbox/{conversation.pk}")
    expect(carlos_page.get_by_test_id("conversation-assignee")).to_have_text(
        "Assigned to Carlos Dias"
    )
    expect(carlos_page.get_by_test_id("inbox-message")).to_have_count(5)
    assert agent_messages(carlos_page) == [
        ("contact", "text", "Quero saber das matrículas de 2026."),
        ("agent", "text", "Olá, Bruno! As matrículas abrem em março."),
        ("contact", "text", "Obrigado! Tem desconto para irmãos?"),
        ("agent", "note", "Irmão já estuda aqui: verificar desconto."),
        ("agent", "note", "Transferred to Carlos Dias: Carlos cuida dos descontos."),
    ]
    expect(carlos_page.get_by_test_id("note-badge")).to_have_count(2)
    # And the visitor is told who answers now
    expect(visitor.get_by_test_id("widget-agent")).to_have_text("Você está falando com Carlos")

    # When Carlos replies and resolves the conversation
    send(carlos_page, "Sim, 10% para o segundo filho.")
    carlos_page.get_by_test_id("resolve-conversation").click()
    expect(carlos_page.get_by_test_id("conversation-status")).to_have_text("Resolved")
    expect(carlos_page.get_by_test_id("view-mine-count")).to_have_text("0")
    expect(ana_page.get_by_test_id("conversation-status")).to_have_text("Resolved")

    # Then the visitor saw every reply and never a note, and is asked to rate
    expect(visitor.get_by_test_id("widget-message")).to_have_count(4)
    assert visitor_messages(visitor) == [
        ("contact", "Quero saber das matrículas de 2026."),
        ("agent", "Olá, Bruno! As matrículas abrem em março."),
        ("contact", "Obrigado! Tem desconto para irmãos?"),
        ("agent", "Sim, 10% para o segundo filho."),
    ]
    expect(visitor.get_by_test_id("widget-panel")).not_to_contain_text("verificar desconto")
    expect(visitor.get_by_test_id("widget-panel")).not_to_contain_text("cuida dos descontos")

    # When the visitor rates it
    expect(visitor.get_by_test_id("csat-form")).to_be_visible()
    visitor.get_by_test_id("csat-star-5").click()
    visitor.get_by_test_id("csat-comment").fill("Resolveram rapidinho!")
    visitor.get_by_test_id("csat-submit").click()
    expect(visitor.get_by_test_id("csat-thanks")).to_be_visible()

    # Then Carlos sees the rating on the conversation, and it is his
    expect(carlos_page.get_by_test_id("conversation-csat")).to_have_text(
        "Rated 5/5: “Resolveram rapidinho!”"
    )
    rating = CsatResponse.objects.get()
    assert (rating.conversation_id, rating.agent_id, rating.rating, rating.comment) == (
        conversation.pk,
        carlos.pk,
        5,
        "Resolveram rapidinho!",
    )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id, conversation.resolved_by_id) == (
        ConversationStatus.RESOLVED,
        carlos.pk,
        carlos.pk,
    )
    assert list(
        Message.objects.filter(room=conversation.room)
        .order_by("pk")
        .values_list("kind", "by_contact", "author_id")
    ) == [
        ("text", True, None),
        ("text", False, ana.pk),
        ("text", True, None),
        ("note", False, ana.pk),
        ("note", False, ana.pk),
        ("text", False, carlos.pk),
    ]


def test_an_admin_sets_up_the_inbox_and_supervises_it_live(
    browsers: Browsers, live_server_url: str
) -> None:
    org = make.organization(name="Escola Exemplo")
    secretaria = make.department(org, "Secretaria")
    enrolment = make.queue(org, dept=secretaria, name="Matrículas", strategy="manual")
    ana = make.agent(
        org, enrolment, display_name="Ana Souza", email="ana@example.com", language="en"
    )
    make.agent(
        org,
        display_name="Marta Reis",
        email="marta@example.com",
        role=Role.ORG_ADMIN,
        online=False,
        language="en",
    )
    widget = make.widget(org, ["https://www.escola.example"])
    page = browsers.page(locale="en-US", base_url=live_server_url)
    page.goto("/signin?next=/inbox/settings")
    page.get_by_label("E-mail").fill("marta@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Inbox settings")).to_be_visible()

    # Given the settings, with the department, the queue and its member
    queues = page.get_by_test_id("settings-queues")
    expect(page.get_by_test_id("settings-departments")).to_contain_text("Secretaria")
    expect(queues).to_contain_text("Matrículas")
    expect(queues).to_contain_text("Secretaria · Manual (agents pull)")
    expect(queues.locator(".queue-members")).to_have_text("Ana SouzaRemove")
    expect(page.get_by_test_id("widget-public-key")).to_have_text(widget.public_key)

    # When the admin gives the queue weekday hours and SLA targets
    queues.get_by_role("button", name="Edit").click()
    dialog = page.get_by_test_id("queue-dialog")
    dialog.get_by_label("Routing").select_option("load_balance")
    dialog.get_by_label("Time zone").fill("America/Sao_Paulo")
    dialog.get_by_role("button", name="Add Monday to Friday, 9 to 18").click()
    dialog.get_by_label("First reply within (business minutes)").fill("15")
    dialog.get_by_label("Resolve within (business minutes)").fill("240")
    dialog.get_by_label("Holidays").fill("2026-12-25\n2027-01-01")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    # Then the queue has them
    expect(queues).to_contain_text("Secretaria · Load balance")
    enrolment.refresh_from_db()
    assert (
        enrolment.routing_strategy,
        enrolment.time_zone,
        enrolment.weekly_hours,
        enrolment.holidays,
        enrolment.first_response_minutes,
        enrolment.resolution_minutes,
    ) == (
        "load_balance",
        "America/Sao_Paulo",
        [{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)],
        ["2026-12-25", "2027-01-01"],
        15,
        240,
    )

    # When they add a canned response
    canned = page.get_by_test_id("settings-canned")
    canned.get_by_role("button", name="Add canned response").click()
    dialog = page.get_by_role("dialog", name="New canned response")
    dialog.get_by_label("Shortcut").fill("boas-vindas")
    dialog.get_by_label("Title").fill("Boas-vindas")
    dialog.get_by_label("Text").fill("Olá! Como podemos ajudar?")
    dialog.get_by_role("button", name="Save").click()
    expect(canned).to_contain_text("/boas-vindas")
    assert list(
        CannedResponse.objects.filter(organization=org).values_list("shortcut", "title", "body")
    ) == [("boas-vindas", "Boas-vindas", "Olá! Como podemos ajudar?")]

    # And rotate the widget's key
    page.get_by_role("button", name="Rotate the key").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate the key").click()
    widget.refresh_from_db()
    expect(page.get_by_test_id("widget-public-key")).to_have_text(widget.public_key)
    expect(page.get_by_test_id("widget-snippet")).to_contain_text(widget.public_key)

    # When they open the supervisor's view while a visitor waits
    conversation = make.conversation(enrolment)
    page.goto("/inbox/supervisor")
    supervisor = page.get_by_test_id("supervisor")
    expect(supervisor).to_have_attribute("data-live", "true")
    queue_row = page.get_by_test_id("supervisor-queues").locator("tbody tr")
    expect(queue_row).to_have_count(1)
    expect(queue_row.locator("th")).to_have_text("Matrículas")
    expect(queue_row.locator("td").nth(1)).to_have_text("1")
    expect(queue_row.locator("td").nth(2)).to_have_text("1")
    expect(queue_row.locator("td").nth(3)).to_have_text(re.compile(r"^Waiting 0:\d\d$"))

    # And Ana takes the conversation (through the API of the running server)
    assert (
        staff_post(
            live_server_url,
            ana,
            f"{org.pk}/conversations/{conversation.pk}/assign/",
            {"user_id": ana.pk},
        )
        == 200
    )

    # Then the tables follow live
    expect(queue_row.locator("td")).to_have_text(["Secretaria", "0", "1", "—", "0"])
    agent_rows = page.get_by_test_id("supervisor-agents").locator("tbody tr")
    expect(agent_rows.nth(0)).to_have_text("Ana SouzaOnlineYes1/5")
    # Marta's own socket (this page) makes her connected, though she is not taking any
    expect(agent_rows.nth(1)).to_have_text("Marta ReisOfflineYes0/5")
