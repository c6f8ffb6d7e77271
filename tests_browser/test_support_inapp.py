"""A signed-in student reaches the school's support from inside the web app.

The /support screen embeds the support widget in its in-app mode: the visitor is the
signed-in user (no name or e-mail to type), the widget is drawn inline in the screen, and the
conversation comes in on the `in_app` channel with its contact linked to the user. An agent
takes it and replies through the staff REST API of the running server, and the student sees
the reply live.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD
from calls.tests.factories import client
from queueing.models import Contact, Conversation, ConversationStatus
from queueing.tests import inbox_factories as make
from tests_browser.test_widget import Staff, shown_messages

pytestmark = pytest.mark.browser


@pytest.fixture
def student_page(
    live_server_url: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    expect.set_options(timeout=15_000)
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(
        base_url=live_server_url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_a_signed_in_student_talks_to_support_inside_the_app(
    student_page: Any, live_server_url: str
) -> None:
    page = student_page
    org = make.organization(name="Escola Exemplo")
    department = make.department(org, "Secretaria")
    support = make.queue(org, dept=department, name="Matrículas", strategy="manual")
    agent = make.agent(org, support, display_name="Ana Souza", email="ana@example.com")
    # Its allowed origins are the school's own site, not Atende: in-app needs none.
    make.widget(org, ["https://escola.example"], title="Fale com a Escola")
    student = client(balance=0, display_name="Bruno Lima", email="bruno@example.com")

    # Given a signed-in student (no organization of their own)
    page.goto("/signin")
    page.get_by_label("E-mail").fill("bruno@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server_url}/")

    # When they open Support from the navigation
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page).to_have_url(f"{live_server_url}/support")
    expect(page.get_by_role("heading", name="Support", exact=True)).to_be_visible()

    # Then the widget is drawn inline (no launcher), asking only for the topic and message
    panel = page.get_by_test_id("widget-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Fale com a Escola")).to_be_visible()
    expect(page.get_by_test_id("widget-launcher")).to_have_count(0)
    expect(page.get_by_test_id("prechat-name")).to_have_count(0)
    expect(page.get_by_test_id("prechat-email")).to_have_count(0)
    expect(page.get_by_test_id("prechat-department")).to_have_value(str(department.pk))

    # When they write and send their message
    page.get_by_test_id("prechat-message").fill("When does enrollment open?")
    page.get_by_test_id("prechat-submit").click()

    # Then it waits in line, on the in-app channel, from a contact linked to the student
    expect(page.get_by_test_id("widget-position")).to_have_text(
        re.compile(r"^You are number 1 in line( \(about \d+ min\))?$")
    )
    expect(page.get_by_test_id("widget-message")).to_have_count(1)
    assert shown_messages(page) == [("contact", "When does enrollment open?")]
    conversation = Conversation.objects.select_related("contact").get()
    assert (
        conversation.organization_id,
        conversation.queue_id,
        conversation.status,
        conversation.channel,
        conversation.contact.user_id,
        conversation.contact.name,
        conversation.contact.email,
    ) == (
        org.pk,
        support.pk,
        ConversationStatus.OPEN,
        "in_app",
        student.pk,
        "Bruno Lima",
        "bruno@example.com",
    )

    # When an agent takes it and replies
    staff = Staff(live_server_url, agent, org.pk)
    status, _body = staff.post(f"conversations/{conversation.pk}/assign/", {"user_id": agent.pk})
    assert status == 200
    expect(page.get_by_test_id("widget-agent")).to_have_text("You are talking to Ana")
    status, _body = staff.post(
        f"conversations/{conversation.pk}/messages/",
        {"body": "Hi Bruno! It opens in March.", "client_id": "reply-1"},
    )
    assert status == 201

    # Then the student sees the reply live
    expect(page.get_by_test_id("widget-message")).to_have_count(2)
    assert shown_messages(page) == [
        ("contact", "When does enrollment open?"),
        ("agent", "Hi Bruno! It opens in March."),
    ]

    # And leaving the screen and coming back shows the same conversation (one contact)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page).to_have_url(f"{live_server_url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page.get_by_test_id("widget-message")).to_have_count(2)
    page.reload()
    expect(page.get_by_test_id("widget-message")).to_have_count(2)
    assert Contact.objects.filter(user=student).count() == 1
