"""The web app shell in a real browser: accounts, the live connection and the language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.tests.factories import PASSWORD as MEMBER_PASSWORD
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

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
        ["Home", "Professionals", "Queue", "Calls", "Wallet", "Support", "Profile", "Security"]
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
        [
            "Início",
            "Profissionais",
            "Fila",
            "Chamadas",
            "Carteira",
            "Suporte",
            "Perfil",
            "Segurança",
        ]
    )
    expect(page.get_by_label("Idioma", exact=True).last).to_have_value("pt-br")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_have_text("Conectado")


def test_an_organization_member_finds_the_inbox_between_chat_and_members(
    live_server_url: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server was forked first; only this process lifts the guard (see conftest `orm`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    organization = OrganizationFactory(name="Escola Exemplo")
    agent = UserFactory(email="ana@example.com", display_name="Ana Souza", language="en")
    MembershipFactory(user=agent, organization=organization, role=Role.AGENT)
    context = browser.new_context(base_url=live_server_url, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Given an agent of an organization, signed in
    page.goto("/signin")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_label("Password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server_url}/")

    # Then the navigation offers the inbox and the CRM, between the chat and the members
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        [
            "Home",
            "Professionals",
            "Queue",
            "Calls",
            "Wallet",
            "Chat",
            "Inbox",
            "CRM",
            "Members",
            "Profile",
            "Security",
        ]
    )

    # When they open it, it is the current page, also on a conversation's address
    nav.get_by_role("link", name="Inbox").click()
    expect(page).to_have_url(f"{live_server_url}/inbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(nav.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    expect(page).to_have_title(re.compile(r"^Inbox · Atende$"))
    # Only org admins see the way to the supervisor's view and the settings
    expect(page.get_by_role("link", name="Supervisor")).to_have_count(0)
    context.close()
    assert errors == []
