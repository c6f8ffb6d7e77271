"""The web app shell in a real browser: accounts, the live connection and the language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAME = "Marina Souza"
EMAIL = "marina@example.com"
PHONE = "(11) 98765-4321"
PASSWORD = "rio-de-janeiro-2026"


def test_a_person_signs_up_signs_out_signs_in_and_switches_language(
    page: Any, live_server_url: str
) -> None:
    status = page.get_by_test_id("socket-status")
    heading = page.get_by_role("heading", level=1)

    # Given an anonymous visitor, the app sends them to sign in, in Portuguese.
    page.goto("/")
    expect(page).to_have_url(f"{live_server_url}/signin")
    expect(heading).to_have_text("Entrar")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    expect(status).to_be_hidden()

    # When they sign up
    page.get_by_role("link", name="Crie uma conta").click()
    expect(page).to_have_url(f"{live_server_url}/signup")
    page.get_by_label("Seu nome").fill(NAME)
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Celular").fill(PHONE)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Criar conta").click()

    # Then they are signed in, asked for the codes sent to them, with a live connection.
    expect(page).to_have_url(f"{live_server_url}/verify")
    expect(heading).to_have_text("Verifique sua conta")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Conectado")

    # And home welcomes them.
    page.get_by_role("link", name="Início").click()
    expect(page).to_have_url(f"{live_server_url}/")
    expect(heading).to_have_text(f"Olá, {NAME}")

    # When they sign out, they are back at sign in and the connection is gone.
    page.get_by_role("button", name="Sair").click()
    expect(page).to_have_url(f"{live_server_url}/signin")
    expect(heading).to_have_text("Entrar")
    expect(page.get_by_role("status").filter(has_text="Você saiu da sua conta.")).to_be_visible()
    expect(status).to_be_hidden()
    expect(page.get_by_role("button", name="Sair")).to_have_count(0)

    # When they sign in again, the socket connects.
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(f"{live_server_url}/")
    expect(heading).to_have_text(f"Olá, {NAME}")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Conectado")

    # When they switch to English, the page reloads in English and reconnects.
    page.get_by_label("Idioma").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text(f"Welcome, {NAME}")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Home", "Professionals", "Queue", "Calls", "Wallet", "Profile", "Security"]
    )
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Connected")
    expect(page).to_have_title(re.compile(r"^Home · Atende$"))

    # And the choice is saved on their profile, not only in this browser.
    page.get_by_role("link", name="Profile").click()
    expect(page).to_have_url(f"{live_server_url}/profile")
    expect(page.get_by_label("Language", exact=True).last).to_have_value("en")

    # When they switch back to Portuguese, everything is in Portuguese again.
    page.get_by_label("Language", exact=True).first.select_option("pt-br")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    expect(heading).to_have_text("Seu perfil")
    expect(page.get_by_role("navigation", name="Principal").get_by_role("link")).to_have_text(
        ["Início", "Profissionais", "Fila", "Chamadas", "Carteira", "Perfil", "Segurança"]
    )
    expect(page.get_by_label("Idioma", exact=True).last).to_have_value("pt-br")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Conectado")
