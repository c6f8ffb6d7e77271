"""Identity verification and personal data in a real browser: a professional sends their
documents, downloads everything the platform holds about them, and deletes the account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.models import KycSubmission, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


def sign_in(page: Any, email: str, password: str) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.locator("button[aria-busy]")).to_have_count(0)


def png(path: Path, color: str) -> Path:
    Image.new("RGB", (64, 48), color).save(path, format="PNG")
    return path


def test_a_professional_sends_documents_downloads_their_data_and_deletes_the_account(
    page: Any, live_server_url: str, orm: None, tmp_path: Path
) -> None:
    now = timezone.now()
    user = UserFactory(
        email="rita@example.com",
        display_name="Rita",
        account_type="professional",
        phone="+5511987654321",
        email_verified_at=now,
        phone_verified_at=now,
    )
    heading = page.get_by_role("heading", level=1)

    # Given a professional who has not verified their identity yet
    page.goto("/kyc")
    sign_in(page, "rita@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server_url}/kyc")
    expect(heading).to_have_text("Verificação de identidade")
    status = page.get_by_test_id("kyc-status")
    expect(status.get_by_text("Não verificado", exact=True)).to_be_visible()

    # When they fill in the form with their documents (a preview shows each photo)
    page.get_by_label("Nome completo").fill("Rita de Cássia Souza")
    page.get_by_label("CPF").fill("529.982.247-25")
    page.get_by_label("Data de nascimento").fill("1990-05-17")
    page.get_by_label("Documento (frente)").set_input_files(png(tmp_path / "front.png", "navy"))
    page.get_by_label("Documento (verso)").set_input_files(png(tmp_path / "back.png", "teal"))
    page.get_by_label("Selfie", exact=True).set_input_files(png(tmp_path / "selfie.png", "orange"))
    expect(page.get_by_role("img", name="Pré-visualização: Selfie")).to_be_visible()
    page.get_by_role("button", name="Enviar documentos").click()

    # Then the documents are under review, and the form is gone
    expect(status.get_by_text("Em análise", exact=True)).to_be_visible()
    expect(status.get_by_text("Seus documentos estão em análise desde")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar documentos")).to_have_count(0)
    submission = KycSubmission.objects.get(user=user)
    assert (submission.status, submission.cpf) == ("pending", "52998224725")

    # When they download their data from "My data" (linked from the profile)
    page.goto("/profile")
    page.get_by_role("link", name="Meus dados: baixe-os ou exclua sua conta").click()
    expect(heading).to_have_text("Meus dados")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Baixar meus dados").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert "rita@example.com" in json.dumps(exported)

    # When they ask to delete the account, a dialog explains what happens and asks the password
    page.get_by_role("button", name="Excluir minha conta").click()
    dialog = page.get_by_role("dialog", name="Excluir sua conta?")
    expect(dialog.get_by_text("anonimizados")).to_be_visible()
    dialog.get_by_label("Senha").fill("not-the-password")
    dialog.get_by_role("button", name="Excluir minha conta definitivamente").click()
    expect(dialog.get_by_text("A senha não está correta.")).to_be_visible()
    assert User.objects.get(pk=user.pk).email == "rita@example.com"

    dialog.get_by_label("Senha").fill(PASSWORD)
    dialog.get_by_role("button", name="Excluir minha conta definitivamente").click()

    # Then they land signed out, with a goodbye, and the account is anonymized
    expect(page).to_have_url(f"{live_server_url}/signin?goodbye=1")
    expect(page.get_by_text("Sua conta foi excluída.")).to_be_visible()
    expect(page.get_by_role("link", name="Entrar")).to_be_visible()
    assert User.objects.get(pk=user.pk).email != "rita@example.com"
    page.goto("/my-data")
    expect(page).to_have_url(f"{live_server_url}/signin?next=%2Fmy-data")
