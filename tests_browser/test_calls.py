"""A paid video call in two real browsers (Chromium's fake camera and microphone).

The professional turns online on the dashboard, the client finds them in the catalog and
calls, the professional accepts in the incoming-call dialog; both browsers reach ICE
"connected" and decode the other's video; an end-to-end encrypted chat message goes each way
with the same safety code on both screens, and its plaintext is in no request, no socket frame
and no database row; the call is billed per unit (a 2-second unit here) with the 85/15 split in
the ledger; then the client hangs up and rates the call.

The people here read the app in English.
"""

from __future__ import annotations

import base64
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD
from calls.models import Call, CallMessage, CallRating, CallStatus
from calls.tests.factories import client, professional
from wallet.models import Account, AccountKind, Transfer, TransferKind

pytestmark = pytest.mark.browser

UNIT_SECONDS = 2

ICE_CONNECTED = """() => {
  const call = window.__atendeCall;
  const pc = call && call.session.connection();
  return Boolean(pc) && ['connected', 'completed'].includes(pc.iceConnectionState);
}"""

FRAMES_DECODED = """async () => {
  const pc = window.__atendeCall.session.connection();
  const stats = await pc.getStats();
  let frames = 0;
  stats.forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      frames += report.framesDecoded || 0;
    }
  });
  return frames;
}"""


class People:
    """A browser context per person, recording everything each page sends."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.sent: list[str] = []

    def page(self) -> Any:
        context = self.browser.new_context(
            base_url=self.base_url, locale="en-US", viewport={"width": 1280, "height": 800}
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._record_request)
        page.on("websocket", lambda ws: ws.on("framesent", self._record_frame))
        return page

    def _record_request(self, request: Any) -> None:
        try:
            body = request.post_data_buffer
        except Exception:  # a body Playwright cannot read is recorded as empty
            body = None
        self.sent.append(f"{request.url} {body.decode('utf-8', 'replace') if body else ''}")

    def _record_frame(self, payload: Any) -> None:
        self.sent.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def billing_unit(settings: Any) -> int:
    # Set before the server process is forked (it inherits the settings): short units.
    settings.CALLS_BILLING_UNIT_SECONDS = UNIT_SECONDS
    return UNIT_SECONDS


@pytest.fixture
def people(
    billing_unit: int, live_server_url: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[People]:
    expect.set_options(timeout=15_000)
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    opened = People(browser, live_server_url)
    yield opened
    opened.close()
    assert opened.errors == []


def sign_in(page: Any, email: str, next_path: str) -> None:
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")


def off_playwright_thread(work: Any) -> Any:
    """Services publish with async_to_sync, which refuses Playwright's thread (it runs a loop)."""

    def run() -> Any:
        try:
            return work()
        finally:
            connections.close_all()  # the thread's own connection, before it goes

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def wait_for(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}.", pytrace=False)
        time.sleep(0.2)


def test_a_paid_video_call_with_encrypted_chat_billing_and_rating(
    people: People, live_server_url: str
) -> None:
    pro = professional(price=6, online=False, display_name="Paula Prado", email="paula@example.com")
    customer = client(balance=100, display_name="Carlos Cruz", email="carlos@example.com")

    # Given the professional turns online on the dashboard
    pro_page = people.page()
    sign_in(pro_page, "paula@example.com", "/professional")
    expect(pro_page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    switch = pro_page.get_by_test_id("accepting-switch")
    expect(switch).to_be_enabled()
    switch.check()
    expect(pro_page.get_by_test_id("pro-status")).to_have_attribute("data-status", "online")

    # When the client finds them in the catalog and calls
    client_page = people.page()
    sign_in(client_page, "carlos@example.com", "/professionals")
    card = client_page.get_by_test_id("professional-card").filter(has_text="Paula Prado")
    expect(card.get_by_test_id("pro-status")).to_have_attribute("data-status", "online")
    card.get_by_role("link", name="Paula Prado").click()
    expect(client_page.get_by_role("heading", level=1, name="Paula Prado")).to_be_visible()
    client_page.get_by_test_id("call-now").click()
    expect(client_page).to_have_url(re.compile(r"/calls/\d+$"))
    call = Call.objects.get()
    assert client_page.url == f"{live_server_url}/calls/{call.pk}"
    assert (call.client_id, call.professional_id, call.billing_unit_seconds) == (
        customer.pk,
        pro.pk,
        UNIT_SECONDS,
    )
    expect(client_page.get_by_test_id("call-status")).to_have_text("Ringing…")

    # Then the professional's incoming-call dialog rings; they accept
    incoming = pro_page.get_by_test_id("incoming-call")
    expect(incoming).to_be_visible()
    expect(incoming).to_contain_text("Carlos Cruz is calling you")
    incoming.get_by_test_id("accept-call").click()
    expect(pro_page).to_have_url(f"{live_server_url}/calls/{call.pk}")
    expect(incoming).to_be_hidden()

    # Both browsers connect and decode the other's video
    for page in (client_page, pro_page):
        page.wait_for_function(ICE_CONNECTED, timeout=20_000)
        page.wait_for_function(
            "() => window.__atendeCall.remoteVideo.videoWidth > 0", timeout=20_000
        )
        page.wait_for_function(f"({FRAMES_DECODED})().then((n) => n > 0)", timeout=20_000)
        assert page.evaluate(FRAMES_DECODED) > 0
        expect(page.get_by_test_id("call-status")).to_have_text("In progress")
    wait_for(lambda: Call.objects.get(pk=call.pk).status == CallStatus.ACTIVE, "an active call")

    # The chat: the same safety code on both screens, messages shown decrypted on the other
    codes = [page.get_by_test_id("safety-code") for page in (client_page, pro_page)]
    for code in codes:
        expect(code).to_have_text(re.compile(r"^\d{4} \d{4} \d{4}$"))
    assert codes[0].inner_text() == codes[1].inner_text()
    secrets = {
        client_page: "meet me at the blue door 7431",
        pro_page: "understood, bringing the file 9902",
    }
    for sender, text in secrets.items():
        receiver = pro_page if sender is client_page else client_page
        sender.get_by_test_id("call-message-input").fill(text)
        sender.get_by_test_id("call-message-input").press("Enter")
        expect(receiver.get_by_test_id("call-messages")).to_contain_text(text)
        expect(sender.locator(".call-message.mine:not(.pending)")).to_contain_text(text)
    rows = list(CallMessage.objects.filter(call=call).order_by("id"))
    assert [row.sender_id for row in rows] == [customer.pk, pro.pk]
    for row in rows:
        stored = row.ciphertext + row.iv + base64.b64decode(row.ciphertext).decode("latin-1")
        assert all(text not in stored for text in secrets.values())
    for text in secrets.values():
        assert [sent for sent in people.sent if text in sent] == []

    # The call is billed per unit while connected (the billing pass, as the scheduler runs it)
    time.sleep(UNIT_SECONDS * 2 + 0.5)
    from calls import billing

    off_playwright_thread(billing.bill_due_calls)
    call.refresh_from_db()
    assert call.billed_units >= 3

    # When the client hangs up
    client_page.get_by_test_id("hang-up").click()
    expect(client_page.get_by_test_id("call-summary")).to_be_visible()
    expect(pro_page.get_by_test_id("call-summary")).to_be_visible()
    wait_for(lambda: Call.objects.get(pk=call.pk).status == CallStatus.ENDED, "the call to end")
    call.refresh_from_db()
    assert call.end_reason == "client_hung_up"

    # Then the ledger holds exactly what was billed, each charge split 85/15
    charges = list(Transfer.objects.filter(reference=f"call:{call.pk}", kind=TransferKind.CHARGE))
    assert sum(transfer.amount for transfer in charges) == call.billed_amount
    assert call.billed_amount == max(10, call.billed_units * 6)
    by_unit: dict[Any, dict[str, int]] = defaultdict(lambda: {"professional": 0, "platform": 0})
    earnings = Account.objects.get(user=pro, kind=AccountKind.EARNINGS_PENDING)
    for transfer in charges:
        side = "professional" if transfer.credit_account_id == earnings.pk else "platform"
        by_unit[transfer.metadata.get("unit"), transfer.batch][side] += transfer.amount
    for shares in by_unit.values():
        total = shares["professional"] + shares["platform"]
        assert shares["professional"] == total * 85 // 100
    wallet = Account.objects.get(user=customer, kind=AccountKind.CLIENT_WALLET)
    assert (wallet.balance, wallet.held) == (100 - call.billed_amount, 0)
    expect(client_page.get_by_test_id("summary-charged")).to_have_text(
        f"{call.billed_amount} tokens"
    )

    # And the client rates the call
    dialog = client_page.get_by_test_id("rating-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(".star-option").nth(4).click()
    dialog.get_by_label("Comment (optional)").fill("Very helpful")
    dialog.get_by_role("button", name="Send rating").click()
    expect(dialog).to_have_count(0)
    rating = CallRating.objects.get(call=call)
    assert (rating.stars, rating.comment, rating.client_id) == (5, "Very helpful", customer.pk)
