"""Security in a real browser: turning on two-factor authentication and signing in with it,
and inviting someone who signs up from the e-mailed link and joins the organization live."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Invitation, Membership
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

# django-otp makes the next try after a wrong code wait 1 s (then 2 s, 4 s...).
THROTTLE_AFTER_ONE_WRONG_CODE_SECONDS = 1.2


def sign_in(page: Any, email: str, password: str) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.locator("button[aria-busy]")).to_have_count(0)


def app_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The authenticator app's code for the base32 `secret` shown on the page.

    Each time step's code is accepted once, so a later sign-in uses the next step's code
    (django-otp accepts one step of drift either way).
    """
    value = totp(base64.b32decode(secret), step=30, t0=0, digits=6, drift=steps_ahead)
    return f"{value:06d}"


def test_a_person_turns_on_two_factor_and_signs_in_again_with_a_code_from_the_app(
    page: Any, live_server_url: str, orm: None
) -> None:
    heading = page.get_by_role("heading", level=1)
    status = page.get_by_test_id("socket-status")
    user = UserFactory(email="lia@example.com", display_name="Lia")

    # Given a person on the Security page, with two-factor authentication off
    page.goto("/security")
    sign_in(page, "lia@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/security")
    two_factor = page.get_by_role("region", name="Verificação em duas etapas")
    expect(two_factor.get_by_text("Desativada", exact=True)).to_be_visible()

    # When they start the setup, a QR code and the key for typing by hand are shown.
    two_factor.get_by_role("button", name="Configurar a verificação em duas etapas").click()
    qr_code = "QR code para adicionar o Atende ao seu aplicativo autenticador"
    expect(two_factor.get_by_role("img", name=qr_code)).to_be_visible()
    two_factor.get_by_text("Não consegue ler? Digite uma chave").click()
    secret = two_factor.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=user)
    assert (device.confirmed, device.bin_key) == (False, base64.b32decode(secret))

    # And they confirm with the app's code: it is on, and the ten recovery codes show once.
    two_factor.get_by_label("Código de 6 dígitos do aplicativo").fill(app_code(secret))
    two_factor.get_by_role("button", name="Ativar").click()
    codes = two_factor.get_by_test_id("recovery-codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(two_factor.get_by_text("Ativada", exact=True)).to_be_visible()
    shown = codes.all_inner_texts()
    stored = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    assert sorted(shown) == sorted(stored)

    # And the download holds the same codes.
    with page.expect_download() as download:
        two_factor.get_by_role("link", name="Baixar como arquivo de texto").click()
    assert download.value.suggested_filename == "atende-recovery-codes.txt"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line in shown] == shown

    two_factor.get_by_role("button", name="Já guardei").click()
    expect(two_factor).to_contain_text("Você tem 10 códigos de recuperação não usados.")
    expect(two_factor.get_by_test_id("recovery-codes")).to_have_count(0)

    # When they sign out and sign in with the password, the code is asked for, and the
    # live connection waits for it.
    page.get_by_role("button", name="Sair").click()
    expect(heading).to_have_text("Entrar")
    sign_in(page, "lia@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/two-factor")
    expect(heading).to_have_text("Confirme que é você")
    expect(status).to_be_hidden()
    expect(page.get_by_role("navigation", name="Principal").get_by_role("link")).to_have_count(0)

    # And a wrong code is refused, with the advice to wait a little.
    code_field = page.get_by_label("Código do aplicativo autenticador")
    right_code = app_code(secret, steps_ahead=1)
    code_field.fill("000000" if right_code != "000000" else "111111")
    page.get_by_role("button", name="Confirmar").click()
    wrong = "Esse código não está certo. Confira e espere alguns segundos antes de tentar de novo"
    expect(page.get_by_text(wrong)).to_be_visible()
    expect(code_field).to_have_attribute("aria-invalid", "true")

    # When they enter the app's code, they are in, and the live connection opens.
    time.sleep(THROTTLE_AFTER_ONE_WRONG_CODE_SECONDS)
    code_field.fill(right_code)
    page.get_by_role("button", name="Confirmar").click()
    expect(page).to_have_url(f"{live_server_url}/")
    expect(heading).to_have_text("Olá, Lia")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Conectado")

    # And the Security page lists this browser as the one signed-in session.
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Segurança").click()
    sessions = page.get_by_role("region", name="Onde você está conectado").get_by_role("listitem")
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text("Chrome no Linux")
    expect(sessions).to_contain_text("Este navegador")


def test_an_admin_invites_someone_who_signs_up_from_the_email_and_joins_live(
    page: Any, browser: Any, live_server_url: str, outbox: Any, orm: None
) -> None:
    admin = MembershipFactory(
        role=Role.ORG_ADMIN,
        user=UserFactory(email="ana@example.com", display_name="Ana"),
        organization__name="Clínica Boa Vista",
    )
    organization = admin.organization
    members_url = f"/organizations/{organization.pk}/members"

    # Given an admin on the members page
    page.goto(members_url)
    sign_in(page, "ana@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server_url}{members_url}")
    expect(page.get_by_test_id("socket-status")).to_have_attribute("data-state", "connected")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)

    # When they invite an address as an agent
    invite = page.get_by_role("region", name="Convidar alguém")
    invite.get_by_label("E-mail").fill("joao@example.com")
    invite.get_by_label("Função").select_option("agent")
    invite.get_by_role("button", name="Enviar convite").click()

    # Then it waits among the pending invitations, and the link goes out by e-mail.
    pending = page.get_by_role("region", name="Convites pendentes")
    expect(pending.get_by_role("listitem")).to_have_count(1)
    expect(pending.get_by_role("listitem")).to_contain_text("joao@example.com")
    expect(pending.get_by_role("listitem")).to_contain_text("Convidado por Ana")
    body = outbox.latest_email_to("joao@example.com")
    token = re.search(r"/invitations/(\S+)", body)
    assert token, body

    # When the invitee opens the link in their own browser, not signed in
    guest_context = browser.new_context(base_url=live_server_url, locale="pt-BR")
    guest = guest_context.new_page()
    guest_errors: list[str] = []
    guest.on("pageerror", lambda error: guest_errors.append(str(error)))
    guest.goto(f"/invitations/{token.group(1)}")
    guest_heading = guest.get_by_role("heading", level=1)
    expect(guest_heading).to_have_text("Entre em Clínica Boa Vista")
    expect(guest.locator(".facts")).to_contain_text("Agente")
    expect(guest.locator(".facts")).to_contain_text("jo***@example.com")

    # And creates an account from there, they come back to the invitation and accept it.
    guest.get_by_role("link", name="Crie uma conta").click()
    guest.get_by_label("Seu nome").fill("João")
    guest.get_by_label("E-mail").fill("joao@example.com")
    guest.get_by_label("Celular").fill("(11) 91234-5678")
    guest.get_by_label("Senha").fill(PASSWORD)
    guest.get_by_role("button", name="Criar conta").click()
    expect(guest).to_have_url(f"{live_server_url}/invitations/{token.group(1)}")
    guest.get_by_role("button", name="Aceitar convite").click()

    # Then the invitee lands in the organization's member list
    expect(guest).to_have_url(f"{live_server_url}{members_url}")
    expect(guest_heading).to_have_text("Membros de Clínica Boa Vista")

    # And the admin sees them join live, and the invitation is no longer pending.
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("João")
    expect(rows.nth(1)).to_contain_text("joao@example.com")
    expect(pending).to_contain_text("Nenhum convite pendente.")

    joined = Membership.objects.get(organization=organization, user__email="joao@example.com")
    assert joined.role == Role.AGENT
    assert Invitation.objects.get(organization=organization).accepted_by == joined.user
    guest_context.close()
    assert guest_errors == []
