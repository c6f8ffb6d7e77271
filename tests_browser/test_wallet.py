"""The wallet in a real browser: a client buys tokens with PIX (paid with the sandbox's
simulated payment) and sees the balance change live; a professional asks to withdraw; a
client disputes a call charge."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountType, KycStatus, KycSubmission, User
from accounts.tests.factories import PASSWORD, UserFactory
from realtime import publish
from wallet import ledger
from wallet.models import AccountKind, Dispute, Payout, PixCharge, TokenPackage, TransferKind
from wallet.payouts import earnings_release

pytestmark = pytest.mark.browser

_phones = itertools.count(987654321)


@pytest.fixture(autouse=True)
def _sandbox_pix(settings: Any) -> None:
    """The sandbox PSP with its "Simulate payment" button, whatever the environment says.

    Autouse, so it runs before `live_server_url` forks the server, which inherits it.
    """
    settings.PIX_SANDBOX_SIMULATION = True
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": "wallet.providers.sandbox.SandboxPix"}


def sign_in(page: Any, email: str) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.locator("button[aria-busy]")).to_have_count(0)


def verified_person(email: str, **fields: Any) -> User:
    now = timezone.now()
    user: User = UserFactory(
        email=email,
        phone=f"+5511{next(_phones)}",
        email_verified_at=now,
        phone_verified_at=now,
        **fields,
    )
    return user


def test_a_client_buys_tokens_with_pix_and_sees_the_balance_change_without_reloading(
    page: Any, live_server_url: str, orm: None
) -> None:
    client = verified_person("bianca@example.com", display_name="Bianca")
    TokenPackage.objects.create(name="Pacote Inicial", tokens=50, price_centavos=4990)
    status = page.get_by_test_id("socket-status")

    # Given a verified client with an empty wallet, on the wallet screen (from the navigation)
    page.goto("/")
    sign_in(page, "bianca@example.com")
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Carteira").click()
    expect(page).to_have_url(f"{live_server_url}/wallet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carteira")
    balance = page.get_by_test_id("balance-available")
    expect(balance).to_have_text("0 token")  # Portuguese counts 0 as singular
    expect(page.get_by_test_id("statement").get_by_text("Nada por aqui ainda.")).to_be_visible()
    expect(status).to_have_attribute("data-state", "connected")

    # When they buy the package
    package = page.locator(".package").filter(has_text="Pacote Inicial")
    expect(package).to_contain_text("50 tokens")
    expect(package).to_contain_text(re.compile(r"R\$\s*49,90"))
    package.get_by_role("button", name="Comprar Pacote Inicial").click()

    # Then they see the PIX charge: amount, QR code, copy-and-paste code and countdown
    charge = page.get_by_test_id("pix-charge")
    expect(charge.get_by_role("heading", name="Pague com PIX")).to_be_visible()
    expect(charge).to_contain_text(re.compile(r"50 tokens por R\$\s*49,90"))
    expect(charge.get_by_role("img", name="QR code do pagamento PIX")).to_be_visible()
    br_code = charge.get_by_label("Código PIX Copia e Cola")
    expect(br_code).to_have_value(re.compile(r"^000201.*6304[0-9A-F]{4}$"))
    expect(charge.get_by_role("timer")).to_contain_text(
        re.compile(r"Este código expira em \d+:\d\d")
    )
    assert PixCharge.objects.get(user=client).status == "pending"

    # When the sandbox pays it (the page is the same one: a reload would drop the marker)
    page.evaluate("window.__marker = 1")
    charge.get_by_role("button", name="Simular pagamento (sandbox)").click()

    # Then the payment is confirmed and the balance changes, without a reload
    expect(charge.get_by_test_id("charge-paid")).to_have_text(
        "Pagamento recebido: 50 tokens adicionados."
    )
    expect(balance).to_have_text("50 tokens")
    statement = page.get_by_test_id("statement")
    line = statement.locator("tbody tr").first
    expect(line).to_contain_text("Compra de tokens")
    expect(line).to_contain_text("+50")
    assert page.evaluate("window.__marker") == 1
    assert PixCharge.objects.get(user=client).status == "paid"

    # And the line has a printable receipt of the PIX payment
    line.get_by_role("button", name=re.compile("^Comprovante")).click()
    receipt = page.get_by_role("dialog", name="Comprovante")
    expect(receipt).to_contain_text("bianca@example.com")
    expect(receipt).to_contain_text(re.compile(r"R\$\s*49,90"))
    expect(receipt.get_by_role("button", name="Imprimir")).to_be_enabled()
    receipt.get_by_role("button", name="Fechar").click()
    expect(receipt).to_have_count(0)


def test_a_professional_with_approved_identity_asks_to_withdraw_their_earnings(
    page: Any, live_server_url: str, orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arranging the ledger here publishes balance events from this process, whose channel
    # layer no browser listens to (and which cannot send from Playwright's event loop).
    monkeypatch.setattr(publish, "_send", lambda group, message: None)
    professional = verified_person(
        "caio@example.com", display_name="Caio", account_type=AccountType.PROFESSIONAL
    )
    KycSubmission.objects.create(
        user=professional,
        full_name="Caio Mendes",
        cpf="52998224725",
        birth_date="1988-03-02",
        document_front="kyc/front.png",
        document_back="kyc/back.png",
        selfie="kyc/selfie.png",
        status=KycStatus.APPROVED,
        reviewed_at=timezone.now(),
    )
    # A client's call charged 100 tokens, 85 of them earned, and the clearing window passed.
    client = verified_person("dora@example.com")
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET),
        amount=100,
        kind=TransferKind.TOP_UP,
        idempotency_key="browser-test-top-up",
        reference="pix:browsertest",
    )
    legs = ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=100,
        reference="call:1",
        idempotency_key="browser-test-call",
    )
    earned = next(leg for leg in legs if leg.credit_account.kind == AccountKind.EARNINGS_PENDING)
    earnings_release(leg=earned)

    # Given the professional on their earnings screen (from the navigation)
    page.goto("/")
    sign_in(page, "caio@example.com")
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Ganhos").click()
    expect(page).to_have_url(f"{live_server_url}/earnings")
    available = page.get_by_test_id("earnings-available")
    expect(available).to_contain_text("85 tokens")
    expect(available).to_contain_text(re.compile(r"R\$\s*85,00"))
    expect(page.get_by_test_id("payouts").get_by_text("Nenhum saque ainda.")).to_be_visible()

    # When they ask to withdraw 50 tokens to their CPF key
    page.get_by_label("Valor (tokens)").fill("50")
    expect(page.get_by_text(re.compile(r"Você recebe R\$\s*50,00"))).to_be_visible()
    page.get_by_label("Tipo de chave PIX").select_option("cpf")
    page.get_by_label("Chave PIX", exact=True).fill("529.982.247-25")
    page.get_by_role("button", name="Solicitar saque").click()

    # Then the withdrawal is listed as waiting for approval, and the money is set aside
    row = page.get_by_test_id("payouts").locator("tbody tr").first
    expect(row).to_contain_text("50 tokens")
    expect(row).to_contain_text("Aguardando aprovação")
    expect(row).not_to_contain_text("52998224725")  # the key is shown masked
    expect(page.get_by_test_id("earnings-in-withdrawal")).to_contain_text("50 tokens")
    expect(available).to_contain_text("35 tokens")
    payout = Payout.objects.get(user=professional)
    assert (payout.amount, payout.status, payout.pix_key) == (50, "requested", "52998224725")


def test_a_client_disputes_a_call_charge_from_the_history(
    page: Any, live_server_url: str, orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "_send", lambda group, message: None)  # see the test above
    client = verified_person("elisa@example.com")
    professional = verified_person("fabio@example.com", account_type=AccountType.PROFESSIONAL)
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET),
        amount=100,
        kind=TransferKind.TOP_UP,
        idempotency_key="browser-test-top-up",
        reference="pix:browsertest",
    )
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=40,
        reference="call:7",
        idempotency_key="browser-test-call",
    )

    # Given a client whose history shows a call charge (one line, however it was shared),
    # with one "Dispute" action for it
    page.goto("/wallet")
    sign_in(page, "elisa@example.com")
    expect(page.get_by_test_id("balance-available")).to_have_text("60 tokens")
    statement = page.get_by_test_id("statement")
    charges = statement.locator("tbody tr").filter(has_text="Cobrança de chamada")
    expect(charges).to_have_count(1)
    expect(charges).to_contain_text("-40")
    dispute_buttons = statement.get_by_role("button", name="Contestar Chamada 7")
    expect(dispute_buttons).to_have_count(1)

    # When they dispute it, saying why
    dispute_buttons.click()
    dialog = page.get_by_role("dialog", name="Contestar uma cobrança")
    expect(dialog).to_contain_text("40 tokens")
    dialog.get_by_role("button", name="Enviar contestação").click()
    expect(dialog.get_by_text("Escolha um motivo.")).to_be_visible()
    dialog.get_by_label("Motivo").select_option("not_delivered")
    dialog.get_by_label("O que aconteceu?").fill("O profissional não entrou na chamada.")
    dialog.get_by_role("button", name="Enviar contestação").click()

    # Then the dispute is listed as under review, and the charge is no longer disputable
    expect(dialog).to_have_count(0)
    disputes = page.get_by_test_id("disputes")
    item = disputes.locator("li[data-dispute-id]")
    expect(item).to_contain_text("Chamada 7")
    expect(item).to_contain_text("A chamada não aconteceu")
    expect(item).to_contain_text("Em análise")
    expect(disputes.get_by_text("Nenhuma cobrança para contestar.")).to_be_visible()
    expect(statement.get_by_role("button", name="Contestar Chamada 7")).to_have_count(0)
    assert Dispute.objects.get(client=client).reason == "not_delivered"
