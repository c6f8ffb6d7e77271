"""The CRM board, a deal and the settings, end to end in Chromium.

Two people of one organization (Marta, an admin, and Ana, an agent) keep the same board open:
what one moves, by dragging with the mouse or with the keyboard, moves on the other's screen
without a reload, totals included. Then a deal's value is edited and a note added on its page,
and an admin adds a stage in the settings.

Both read the app in English (profile and browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.tests.factories import PASSWORD
from crm.models import Activity, ActivityKind, Deal, Stage
from crm.tests import factories as make

pytestmark = pytest.mark.browser


class Browsers:
    """One browser context per person; no page may end with an uncaught error."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, *, viewport: dict[str, int] | None = None) -> Any:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="en-US",
            viewport=viewport or {"width": 1400, "height": 900},
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(
    live_server_url: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browsers]:
    # Cold starts of the first page (catalog, modules, socket) can exceed the 5 s default.
    expect.set_options(timeout=15_000)
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    opened = Browsers(browser, live_server_url)
    yield opened
    opened.close()
    assert opened.errors == []


@pytest.fixture
def sales() -> dict[str, Any]:
    """Marta (admin) and Ana (agent) of one organization, and a pipeline whose "New" column
    holds two deals of R$ 1.000,00 and whose "Qualified" column holds one of R$ 500,00."""
    org = make.organization(name="Escola Exemplo")
    marta = make.member(
        org,
        role=Role.ORG_ADMIN,
        email="marta@example.com",
        display_name="Marta Reis",
        language="en",
    )
    ana = make.member(
        org, role=Role.AGENT, email="ana@example.com", display_name="Ana Souza", language="en"
    )
    pipeline = make.pipeline(org, "Matrículas")
    new, qualified, *_ = make.stages(pipeline)
    first, second = make.deals(new, 2, value=100_000)
    big = make.deals(qualified, 1, title="Big", value=50_000)[0]
    return {
        "org": org,
        "marta": marta,
        "ana": ana,
        "pipeline": pipeline,
        "new": new,
        "qualified": qualified,
        "first": first,
        "second": second,
        "big": big,
    }


def sign_in(page: Any, email: str, path: str) -> None:
    page.goto(f"/signin?next={path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_board(page: Any, email: str, pipeline_id: int) -> None:
    sign_in(page, email, f"/crm/pipelines/{pipeline_id}")
    expect(page.get_by_test_id("crm-board")).to_be_visible()
    # Live: the socket is up and the server confirmed the pipeline's topic.
    expect(page.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("crm-board")).to_have_attribute("data-live", "true")


def card_ids(page: Any, stage_id: int) -> list[int]:
    cards = page.get_by_test_id(f"crm-column-{stage_id}").locator(".crm-card")
    return [int(cards.nth(index).get_attribute("data-deal-id")) for index in range(cards.count())]


def expect_totals(page: Any, stage_id: int, count: str, value: str, weighted: str) -> None:
    expect(page.get_by_test_id(f"crm-column-count-{stage_id}")).to_have_text(count)
    expect(page.get_by_test_id(f"crm-column-value-{stage_id}")).to_have_text(value)
    expect(page.get_by_test_id(f"crm-column-weighted-{stage_id}")).to_have_text(weighted)


def test_a_card_dragged_by_one_user_moves_live_on_the_other_users_board(
    browsers: Browsers, sales: dict[str, Any]
) -> None:
    new, qualified = sales["new"], sales["qualified"]
    first, second, big = sales["first"], sales["second"], sales["big"]
    marta = browsers.page()
    ana = browsers.page()
    open_board(marta, "marta@example.com", sales["pipeline"].pk)
    open_board(ana, "ana@example.com", sales["pipeline"].pk)
    for page in (marta, ana):
        expect_totals(page, new.pk, "2", "R$2,000.00", "weighted R$200.00")
        expect_totals(page, qualified.pk, "1", "R$500.00", "weighted R$125.00")

    # When Marta drags the first deal with the mouse below the "Big" card in "Qualified"
    card = marta.get_by_test_id(f"crm-card-{first.pk}")
    target = marta.get_by_test_id(f"crm-card-{big.pk}")
    start = card.bounding_box()
    below = target.bounding_box()
    marta.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2)
    marta.mouse.down()
    marta.mouse.move(start["x"] + 40, start["y"] + start["height"] / 2 + 10, steps=5)
    drop_x = below["x"] + below["width"] / 2
    drop_y = below["y"] + below["height"] + 12
    marta.mouse.move(drop_x, drop_y, steps=15)
    expect(marta.get_by_test_id("crm-drop-indicator")).to_be_visible()
    marta.mouse.up()

    # Then the card is there for Marta at once, and for Ana without a reload
    for page in (marta, ana):
        expect(
            page.get_by_test_id(f"crm-column-{qualified.pk}").get_by_test_id(f"crm-card-{first.pk}")
        ).to_be_visible()
        expect(page.get_by_test_id(f"crm-card-{first.pk}")).to_have_attribute("data-version", "2")
        expect_totals(page, new.pk, "1", "R$1,000.00", "weighted R$100.00")
        expect_totals(page, qualified.pk, "2", "R$1,500.00", "weighted R$375.00")
        assert card_ids(page, qualified.pk) == [big.pk, first.pk]
        assert card_ids(page, new.pk) == [second.pk]

    # And the server holds the move: one row written, one version more
    first.refresh_from_db()
    assert (first.stage_id, first.version) == (qualified.pk, 2)
    assert list(
        Deal.objects.filter(stage=qualified).order_by("position", "id").values_list("id", flat=True)
    ) == [
        big.pk,
        first.pk,
    ]


def test_a_card_moved_with_the_keyboard_moves_live_on_the_other_users_board(
    browsers: Browsers, sales: dict[str, Any]
) -> None:
    new, qualified = sales["new"], sales["qualified"]
    first, second, big = sales["first"], sales["second"], sales["big"]
    ana = browsers.page()
    marta = browsers.page()
    open_board(ana, "ana@example.com", sales["pipeline"].pk)
    open_board(marta, "marta@example.com", sales["pipeline"].pk)

    # Given Ana picks up the first deal and changes her mind: Escape puts it back
    card = ana.get_by_test_id(f"crm-card-{first.pk}")
    card.focus()
    ana.keyboard.press("Space")
    expect(card).to_have_attribute("aria-pressed", "true")
    ana.keyboard.press("ArrowRight")
    expect(
        ana.get_by_test_id(f"crm-column-{qualified.pk}").get_by_test_id(f"crm-card-{first.pk}")
    ).to_be_visible()
    ana.keyboard.press("Escape")
    expect(
        ana.get_by_test_id(f"crm-column-{new.pk}").get_by_test_id(f"crm-card-{first.pk}")
    ).to_be_visible()
    assert card_ids(ana, new.pk) == [first.pk, second.pk]

    # When she moves the second deal one column right, below "Big", and drops it
    card = ana.get_by_test_id(f"crm-card-{second.pk}")
    card.focus()
    ana.keyboard.press("Space")
    ana.keyboard.press("ArrowRight")
    ana.keyboard.press("Enter")

    # Then screen readers hear where it went, the card keeps the focus, and Marta sees it move
    expect(ana.locator("#toasts")).to_contain_text("Deal 2 is now in Qualified.")
    expect(ana.get_by_test_id(f"crm-card-{second.pk}")).to_be_focused()
    for page in (ana, marta):
        expect(
            page.get_by_test_id(f"crm-column-{qualified.pk}").get_by_test_id(
                f"crm-card-{second.pk}"
            )
        ).to_be_visible()
        expect_totals(page, new.pk, "1", "R$1,000.00", "weighted R$100.00")
        expect_totals(page, qualified.pk, "2", "R$1,500.00", "weighted R$375.00")
        assert card_ids(page, qualified.pk) == [big.pk, second.pk]
    second.refresh_from_db()
    assert (second.stage_id, second.version) == (qualified.pk, 2)
    first.refresh_from_db()
    assert (first.stage_id, first.version) == (new.pk, 1)


def test_a_stale_move_puts_the_card_where_the_server_has_it(
    browsers: Browsers, sales: dict[str, Any]
) -> None:
    new, qualified = sales["new"], sales["qualified"]
    first = sales["first"]
    ana = browsers.page(viewport={"width": 390, "height": 844})
    open_board(ana, "ana@example.com", sales["pipeline"].pk)
    # Given a deal Ana adds at the top of "New" from the phone
    ana.get_by_test_id(f"crm-add-{new.pk}").click()
    quick_add = ana.get_by_test_id(f"crm-quick-add-{new.pk}")
    quick_add.get_by_label("New deal in New").fill("Visita")
    quick_add.get_by_label("At the top of the column").check()
    quick_add.get_by_role("button", name="Add", exact=True).click()
    added = ana.get_by_test_id(f"crm-column-{new.pk}").locator(".crm-card").first
    expect(added).to_contain_text("Visita")
    visita = Deal.objects.get(title="Visita")
    assert (visita.stage_id, visita.value) == (new.pk, 0)
    expect(ana.get_by_test_id(f"crm-column-count-{new.pk}")).to_have_text("3")

    # And someone else changed another deal behind the socket's back (no event was sent)
    Deal.objects.filter(pk=first.pk).update(version=5)

    # When Ana moves it with the phone-friendly "Move to…" dialog
    ana.get_by_test_id(f"crm-card-move-{first.pk}").click()
    ana.get_by_test_id("crm-move-dialog").get_by_test_id(f"crm-move-to-{qualified.pk}").click()

    # Then she is told, and the card is back where the server has it, at its version
    expect(ana.locator("#alerts")).to_contain_text("Someone changed this card first")
    card = ana.get_by_test_id(f"crm-column-{new.pk}").get_by_test_id(f"crm-card-{first.pk}")
    expect(card).to_have_attribute("data-version", "5")
    first.refresh_from_db()
    assert (first.stage_id, first.version) == (new.pk, 5)


def test_the_deal_page_edits_the_value_and_adds_a_note(
    browsers: Browsers, sales: dict[str, Any]
) -> None:
    first = sales["first"]
    ana = browsers.page()
    sign_in(ana, "ana@example.com", f"/crm/deals/{first.pk}")
    expect(ana.get_by_test_id("crm-deal-title")).to_have_text("Deal 1")
    expect(ana.get_by_test_id("crm-deal-value")).to_have_text("R$1,000.00")

    # When Ana types a new value in reais and leaves the field
    value = ana.get_by_test_id("crm-deal-value-input")
    value.fill("2500.50")
    value.press("Tab")

    # Then it is saved in centavos and shown in reais
    expect(ana.get_by_test_id("crm-deal-value")).to_have_text("R$2,500.50")
    first.refresh_from_db()
    assert (first.value, first.version) == (250_050, 2)

    # When she adds a note
    ana.get_by_test_id("crm-note-input").fill("Called the parents; they want a visit.")
    ana.get_by_test_id("crm-note-submit").click()

    # Then it heads the timeline, with her name
    note = ana.get_by_test_id("crm-activity").filter(
        has_text="Called the parents; they want a visit."
    )
    expect(note).to_contain_text("Ana Souza")
    assert list(
        Activity.objects.filter(deal=first, kind=ActivityKind.NOTE).values_list("body", flat=True)
    ) == ["Called the parents; they want a visit."]


def test_an_admin_adds_a_stage_in_the_settings_and_the_board_shows_it(
    browsers: Browsers, sales: dict[str, Any]
) -> None:
    marta = browsers.page()
    sign_in(marta, "marta@example.com", "/crm/settings")
    stages = marta.get_by_test_id("crm-settings-stages")
    expect(stages.locator(".crm-settings-list > li")).to_have_count(5)

    marta.get_by_test_id("crm-add-stage-name").fill("Negotiation")
    marta.get_by_test_id("crm-add-stage-probability").fill("75")
    marta.get_by_test_id("crm-add-stage-submit").click()

    expect(stages.locator(".crm-settings-list > li")).to_have_count(6)
    stage = Stage.objects.get(pipeline=sales["pipeline"], name="Negotiation")
    assert (stage.probability, stage.is_won, stage.is_lost) == (75, False, False)
    expect(marta.get_by_test_id(f"crm-stage-name-{stage.pk}")).to_have_value("Negotiation")

    marta.goto(f"/crm/pipelines/{sales['pipeline'].pk}")
    expect(marta.get_by_test_id(f"crm-column-{stage.pk}")).to_contain_text("Negotiation")
