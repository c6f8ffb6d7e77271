"""The team chat in a real browser, with two people in two browser contexts: one writes and
the other sees it live, a mention reaches the notification centre, a recorded voice message
plays, HTML typed into a message stays text, nothing is lost across a dropped connection,
opening a thread reads its notifications, and the workspace works on a phone.

The people here chose English (profile and browser), so the assertions read the English text.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, OrganizationFactory
from chat.models import Message, Notification
from chat.tests.helpers import channel, member, send

pytestmark = pytest.mark.browser

# Time allowed for a message written by one person to show up in the other's browser: it
# proves delivery without a reload, not speed (bench/ measures that). One second was too
# tight on a busy 2-core machine, where the suite shares the cores with the server.
LIVE_MS = 5_000


class People:
    """Opens a browser context per person, in English (the people's language too), and checks
    at the end that no page had an uncaught error."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, **options: Any) -> Any:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="en-US",
            viewport=options.pop("viewport", {"width": 1280, "height": 800}),
            **options,
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(live_server_url: str, browser: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[People]:
    # Cold starts of the first page (catalog, modules, socket) can exceed the 5 s default.
    expect.set_options(timeout=15_000)
    # The server was forked by `live_server_url` first; only this process lifts Django's
    # guard against ORM calls next to Playwright's event loop (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    opened = People(browser, live_server_url)
    yield opened
    opened.close()
    assert opened.errors == []


def acme() -> Organization:
    organization: Organization = OrganizationFactory(name="Acme")
    return organization


def person(organization: Organization, name: str, email: str) -> User:
    """An agent of the organization who reads the app in English."""
    return member(organization, Role.AGENT, display_name=name, email=email, language="en")


def sign_in(page: Any, email: str, next_path: str) -> None:
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".chat")).to_be_visible()


def wait_until_live(page: Any) -> None:
    """The socket is up and every room is followed: an event sent now reaches this page."""
    expect(page.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")
    expect(page.locator(".chat")).to_have_attribute("data-live", "true")


def composer(page: Any) -> Any:
    return page.get_by_test_id("composer-input")


def messages(page: Any) -> Any:
    return page.locator(".chat-room .message-list")


def test_two_people_chat_live_with_a_mention_a_voice_message_and_inert_html(
    people: People, live_server_url: str
) -> None:
    organization = acme()
    ana = person(organization, "Ana Lima", "ana@example.com")
    bruno = person(organization, "Bruno Costa", "bruno@example.com")
    general = channel(organization, owner=ana, members=[bruno], name="general")
    channel(organization, owner=ana, members=[bruno], name="random")

    writer = people.page()
    reader = people.page()
    sign_in(writer, "ana@example.com", f"/chat/{general.pk}")
    sign_in(reader, "bruno@example.com", f"/chat/{general.pk}")
    for page in (writer, reader):
        expect(page.get_by_role("heading", level=2, name="general")).to_be_visible()
        expect(page.get_by_text("No messages yet. Say hello!")).to_be_visible()
        wait_until_live(page)

    # When Ana writes in #general, Bruno sees it within a second, without reloading.
    composer(writer).fill("Hello team, **welcome**!")
    composer(writer).press("Enter")
    expect(messages(reader)).to_contain_text("Hello team, welcome!", timeout=LIVE_MS)
    expect(messages(reader).locator("strong", has_text="welcome")).to_be_visible()
    expect(messages(writer).locator(".message:not(.pending)")).to_have_count(1)
    expect(composer(writer)).to_have_value("")

    # Given Bruno is in another room, when Ana mentions him (chosen from the autocomplete)
    reader.get_by_test_id("room-link").filter(has_text="random").click()
    expect(reader.get_by_role("heading", level=2, name="random")).to_be_visible()
    composer(writer).press_sequentially("Can you check this, @Bru")
    suggestion = writer.get_by_role("option", name="Bruno Costa")
    expect(suggestion).to_be_visible()
    composer(writer).press("Enter")  # chooses the suggestion
    expect(composer(writer)).to_have_value("Can you check this, @Bruno Costa ")
    composer(writer).press_sequentially("?")
    composer(writer).press("Enter")  # sends

    # Then the mention is stored as a token, shows as his name, and he is notified
    mention = messages(writer).locator(".mention", has_text="@Bruno Costa")
    expect(mention).to_be_visible()
    stored = Message.objects.get(room=general, mentions__user=bruno)
    assert stored.body == f"Can you check this, <@{bruno.pk}> ?"
    general_link = reader.get_by_test_id("room-link").filter(has_text="general")
    expect(general_link.get_by_test_id("mention-badge")).to_have_text("@1")
    bell = reader.get_by_test_id("notification-bell")
    expect(bell.locator(".notification-count")).to_have_text("1")
    expect(reader).to_have_title("(1) #random · Atende")
    bell.click()
    entry = reader.locator(".notification-item.unread")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Ana Lima")
    assert Notification.objects.filter(user=bruno, kind="mention", read_at=None).count() == 1

    # When he opens it, he is taken to the message's room and it is read
    entry.locator(".notification-open").click()
    expect(reader).to_have_url(f"{live_server_url}/chat/{general.pk}")
    expect(messages(reader).locator(".mention", has_text="@Bruno Costa")).to_be_visible()
    expect(bell.locator(".notification-count")).to_be_hidden()
    expect(general_link.get_by_test_id("mention-badge")).to_have_count(0)
    expect(reader).to_have_title("#general · Atende")

    # When Ana records a voice message (Chromium's fake microphone) and sends it
    writer.get_by_test_id("record-voice").click()
    expect(writer.get_by_role("timer")).to_be_visible()
    writer.wait_for_timeout(1_500)  # a second and a half of the fake microphone's tone
    writer.get_by_test_id("stop-recording").click()

    # Then Bruno can play it inline
    audio = messages(reader).locator(".message audio")
    expect(audio).to_have_count(1, timeout=5_000)
    expect(messages(reader).locator("figcaption")).to_contain_text("Voice message")
    voice = Message.objects.get(room=general, kind="voice")
    assert voice.attachments.get().content_type == "audio/webm"
    audio.evaluate("element => element.play()")
    reader.wait_for_function(
        "() => { const a = document.querySelector('.chat-room .message audio');"
        " return a && a.currentTime > 0.2; }",
        timeout=10_000,
    )

    # When Ana sends HTML and a script, Bruno sees them as text and nothing runs
    payloads = ['<img src=x onerror="window.__xss=1">', "<script>window.__xss=1</script>"]
    for payload in payloads:
        composer(writer).fill(payload)
        composer(writer).press("Enter")
        expect(messages(reader).locator(".message-body").last).to_have_text(
            payload, timeout=LIVE_MS
        )
    expect(messages(reader).locator("img[src='x'], script")).to_have_count(0)
    assert reader.evaluate("window.__xss") is None
    assert writer.evaluate("window.__xss") is None


def test_the_workspace_works_on_a_phone(people: People, live_server_url: str) -> None:
    organization = acme()
    carla = person(organization, "Carla Dias", "carla@example.com")
    general = channel(organization, owner=carla, name="general")
    phone = people.page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "carla@example.com", "/chat")

    # The room list fills the screen; no room is shown yet
    room_link = phone.get_by_test_id("room-link").filter(has_text="general")
    expect(room_link).to_be_visible()
    expect(phone.get_by_test_id("notification-bell")).to_be_visible()
    expect(phone.get_by_test_id("composer-input")).to_have_count(0)

    # Opening the room replaces the list, and a message can be written and sent
    room_link.click()
    expect(phone).to_have_url(f"{live_server_url}/chat/{general.pk}")
    expect(phone.get_by_role("heading", level=2, name="general")).to_be_visible()
    expect(room_link).to_be_hidden()
    wait_until_live(phone)
    composer(phone).fill("From my phone")
    phone.get_by_role("button", name="Send").click()
    expect(messages(phone).locator(".message:not(.pending)")).to_contain_text("From my phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    # The back button returns to the list
    phone.get_by_role("link", name="Back to the rooms").click()
    expect(phone).to_have_url(f"{live_server_url}/chat")
    expect(room_link).to_be_visible()
    expect(phone.get_by_test_id("composer-input")).to_have_count(0)


def test_messages_sent_while_disconnected_are_there_after_the_reconnect(
    people: People, live_server_url: str
) -> None:
    organization = acme()
    ana = person(organization, "Ana Lima", "ana@example.com")
    bruno = person(organization, "Bruno Costa", "bruno@example.com")
    general = channel(organization, owner=ana, members=[bruno], name="general")
    writer = people.page()
    reader = people.page()
    sign_in(writer, "ana@example.com", f"/chat/{general.pk}")
    sign_in(reader, "bruno@example.com", f"/chat/{general.pk}")
    wait_until_live(writer)
    wait_until_live(reader)
    composer(writer).fill("Before the drop")
    composer(writer).press("Enter")
    expect(messages(reader)).to_contain_text("Before the drop")

    # Given Bruno's connection drops
    reader.context.set_offline(True)
    expect(reader.get_by_test_id("socket-status")).to_have_attribute("data-state", "disconnected")

    # When Ana writes meanwhile, nothing reaches him
    for text in ("Sent while you were away", "And one more"):
        composer(writer).fill(text)
        composer(writer).press("Enter")
    expect(messages(writer).locator(".message:not(.pending)")).to_have_count(3)
    assert "away" not in messages(reader).inner_text()

    # Then when it comes back, both messages are there, once each, in order
    reader.context.set_offline(False)
    expect(reader.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")
    expect(messages(reader).locator(".message")).to_have_count(3)
    expect(messages(reader).locator(".message-body")).to_have_text(
        ["Before the drop", "Sent while you were away", "And one more"]
    )


def test_opening_a_thread_reads_the_notifications_of_its_replies(
    people: People, live_server_url: str
) -> None:
    organization = acme()
    ana = person(organization, "Ana Lima", "ana@example.com")
    bruno = person(organization, "Bruno Costa", "bruno@example.com")
    general = channel(organization, owner=ana, members=[bruno], name="general")

    def converse() -> None:
        root = send(general, ana, "Who covers Saturday?")
        send(general, bruno, "I do", parent_id=root.pk)

    # Through the services, off Playwright's thread: their events are published after commit
    # with async_to_sync, which refuses a thread that runs an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(converse).result()
    page = people.page()
    sign_in(page, "ana@example.com", f"/chat/{general.pk}")
    bell = page.get_by_test_id("notification-bell")
    expect(bell.locator(".notification-count")).to_have_text("1")

    messages(page).locator(".thread-summary").click()

    expect(page.get_by_test_id("thread-panel")).to_contain_text("I do")
    expect(bell.locator(".notification-count")).to_be_hidden()
    read = [(n.kind, n.read_at is not None) for n in Notification.objects.filter(user=ana)]
    assert read == [("thread_reply", True)]
