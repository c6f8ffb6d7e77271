"""Identity in a real browser: verifying the e-mail and phone with the codes the server sent,
changing them from the profile, and getting back in after a lockout with a password reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import AccountType, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser

NAME = "Ana Lima"
EMAIL = "ana@example.com"
PHONE_TYPED = "(11) 98765-4321"
PHONE = "+5511987654321"
NEW_PASSWORD = "sao-paulo-centro-2027"


def sign_in(page: Any, email: str, password: str) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    # The button is busy from the click until the answer (then it is gone, on success):
    # wait for that, so the next step does not race the answer.
    expect(page.locator("button[aria-busy]")).to_have_count(0)


def test_a_person_signs_up_verifies_email_and_phone_with_the_codes_sent_and_signs_in(
    page: Any, live_server_url: str, outbox: Any, orm: None
) -> None:
    heading = page.get_by_role("heading", level=1)

    # Given a visitor who signs up
    page.goto("/signup")
    page.get_by_label("Seu nome").fill(NAME)
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Celular").fill(PHONE_TYPED)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Criar conta").click()

    # Then they are asked for the two codes, and told where each went.
    expect(page).to_have_url(f"{live_server_url}/verify")
    expect(heading).to_have_text("Verifique sua conta")
    email_step = page.get_by_role("listitem", name="E-mail")
    phone_step = page.get_by_role("listitem", name="Celular")
    expect(email_step).to_contain_text(f"Enviamos um código de 6 dígitos para {EMAIL}.")
    expect(phone_step).to_contain_text(
        "Enviamos um código de 6 dígitos por SMS para +55 (11) 98765-4321."
    )
    email_code = outbox.email_code(EMAIL)
    sms_code = outbox.sms_code(PHONE)

    # And home lists what is missing, with the way back here.
    page.get_by_role("link", name="Início").click()
    banner = page.get_by_role("region", name="Termine de verificar sua conta")
    expect(banner.get_by_role("listitem")).to_have_text(
        ["Confirme seu e-mail", "Confirme seu celular"]
    )
    banner.get_by_role("link", name="Verificar agora").click()
    expect(page).to_have_url(f"{live_server_url}/verify")

    # When they type a wrong e-mail code, it is refused with the tries left.
    email_step.get_by_label("Código do e-mail").fill(
        "000000" if email_code != "000000" else "111111"
    )
    email_step.get_by_role("button", name="Confirmar").click()
    expect(
        email_step.get_by_text("Esse código não está certo. Você ainda pode tentar 4 vezes.")
    ).to_be_visible()

    # When they type the code from the e-mail, the address is verified and the phone is next.
    email_step.get_by_label("Código do e-mail").fill(email_code)
    email_step.get_by_role("button", name="Confirmar").click()
    expect(email_step).to_contain_text(f"{EMAIL} está verificado.")
    expect(email_step.get_by_text("Verificado", exact=True)).to_be_visible()
    expect(phone_step.get_by_label("Código do SMS")).to_be_focused()

    # When they type the code from the SMS, the account is verified.
    phone_step.get_by_label("Código do SMS").fill(sms_code)
    phone_step.get_by_role("button", name="Confirmar").click()
    expect(heading).to_have_text("Sua conta está verificada")
    expect(heading).to_be_focused()
    user = User.objects.get(email=EMAIL)
    assert (str(user.phone), user.email_verified, user.phone_verified) == (PHONE, True, True)

    # When they sign out and back in, home has nothing left to ask.
    page.get_by_role("button", name="Sair").click()
    expect(heading).to_have_text("Entrar")
    sign_in(page, EMAIL, PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/")
    expect(heading).to_have_text(f"Olá, {NAME}")
    expect(page.get_by_role("region", name="Suas organizações")).to_be_visible()
    expect(page.get_by_role("region", name="Termine de verificar sua conta")).to_have_count(0)


def test_a_person_changes_their_contacts_with_codes_and_becomes_a_professional(
    page: Any, live_server_url: str, outbox: Any, orm: None
) -> None:
    # Given a client with an unverified e-mail and no phone, on their profile
    UserFactory(email="carla@example.com", display_name="Carla")
    page.goto("/profile")
    sign_in(page, "carla@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/profile")
    email_row = page.get_by_role("group", name="E-mail")
    phone_row = page.get_by_role("group", name="Celular")
    expect(email_row).to_contain_text("carla@example.com")
    expect(email_row).to_contain_text("Não verificado")
    expect(phone_row).to_contain_text("Nenhum celular ainda")

    # When they change the e-mail, a code goes to the new address, and confirming it switches.
    email_row.get_by_role("button", name="Alterar e-mail").click()
    email_row.get_by_label("Novo e-mail").fill("carla.nova@example.com")
    email_row.get_by_role("button", name="Enviar código").click()
    expect(email_row).to_contain_text("Enviamos um código de 6 dígitos para ca***@example.com.")
    code = outbox.email_code("carla.nova@example.com")
    email_row.get_by_label("Código do e-mail").fill(code)
    email_row.get_by_role("button", name="Confirmar").click()
    expect(email_row).to_contain_text("carla.nova@example.com")
    expect(email_row.get_by_text("Verificado", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="E-mail alterado.")).to_be_visible()

    # When they add a phone number, it counts once the SMS code is confirmed.
    phone_row.get_by_role("button", name="Adicionar celular").click()
    phone_row.get_by_role("textbox", name="Celular").fill("21 98765-4321")
    phone_row.get_by_role("button", name="Enviar código").click()
    code = outbox.sms_code("+5521987654321")
    phone_row.get_by_label("Código do SMS").fill(code)
    phone_row.get_by_role("button", name="Confirmar").click()
    expect(phone_row).to_contain_text("+55 (21) 98765-4321")
    expect(phone_row.get_by_text("Verificado", exact=True)).to_be_visible()

    # When they become a professional, after confirming in the dialog
    account = page.get_by_role("region", name="Conta", exact=True)
    account.get_by_role("button", name="Tornar-me profissional").click()
    dialog = page.get_by_role("dialog", name="Tornar-se profissional?")
    dialog.get_by_role("button", name="Tornar-me profissional").click()
    expect(account).to_contain_text("Profissional")
    expect(account.get_by_role("button")).to_have_count(0)

    user = User.objects.get(email="carla.nova@example.com")
    assert (str(user.phone), user.email_verified, user.phone_verified, user.account_type) == (
        "+5521987654321",
        True,
        True,
        AccountType.PROFESSIONAL,
    )


def test_a_locked_out_person_resets_the_password_from_the_emailed_link_and_signs_in(
    page: Any, live_server_url: str, outbox: Any, orm: None
) -> None:
    heading = page.get_by_role("heading", level=1)
    user = UserFactory(email="bruno@example.com", display_name="Bruno")

    # Given five wrong passwords in a row, the account is locked, even for the right one.
    page.goto("/signin")
    for _ in range(5):
        sign_in(page, "bruno@example.com", "not-the-password")
    sign_in(page, "bruno@example.com", PASSWORD)
    locked = page.get_by_role("alert").filter(has_text="Muitas tentativas de entrar sem sucesso.")
    expect(locked).to_be_visible()
    expect(page).to_have_url(f"{live_server_url}/signin")

    # When they follow the reset link and ask for a reset e-mail
    locked.get_by_role("link", name="Redefina sua senha").click()
    expect(page).to_have_url(f"{live_server_url}/forgot-password")
    page.get_by_label("E-mail").fill("bruno@example.com")
    page.get_by_role("button", name="Enviar link de redefinição").click()
    expect(heading).to_have_text("Confira seu e-mail")

    # And open the link from the e-mail and choose a new password
    body = outbox.latest_email_to("bruno@example.com")
    key = re.search(r"/reset-password/(\S+)", body)
    assert key, body
    page.goto(f"/reset-password/{key.group(1)}")
    expect(heading).to_have_text("Escolha uma nova senha")
    page.get_by_label("Nova senha").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Salvar nova senha").click()

    # Then they are sent to sign in, and the new password gets them in: the lock is gone.
    expect(page).to_have_url(f"{live_server_url}/signin")
    expect(
        page.get_by_role("status").filter(
            has_text="Sua senha foi alterada. Entre com a nova senha."
        )
    ).to_be_visible()
    sign_in(page, "bruno@example.com", NEW_PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/")
    expect(heading).to_have_text("Olá, Bruno")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # And the link does not work a second time.
    page.goto(f"/reset-password/{key.group(1)}")
    expect(heading).to_have_text("Este link não funciona mais")
    expect(page.get_by_role("link", name="Pedir um novo link")).to_have_attribute(
        "href", "/forgot-password"
    )
