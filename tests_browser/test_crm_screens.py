"""The CRM's record screens in the real app: contacts with the duplicate warning, converting a
lead, the CSV import wizard, the inbox's CRM panel and the BotConversa settings.

People read the app in English (their profile and the browser); rows are arranged with the
ORM and the outcome is checked there too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.tests.factories import PASSWORD
from crm.models import (
    BotConversaConnection,
    Contact,
    Deal,
    ImportJob,
    Lead,
    LeadStatus,
    SavedView,
    Task,
)
from crm.tests import factories as crm_make
from queueing.tests import inbox_factories as inbox_make

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _sandbox_botconversa(settings: Any) -> None:
    """The in-memory BotConversa (key "demo"); autouse so the forked server inherits it."""
    settings.PROVIDERS = {
        **settings.PROVIDERS,
        "crm.botconversa": "crm.providers.sandbox.SandboxBotConversa",
    }


def english_page(page: Any) -> Any:
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    return page


def sign_in(page: Any, email: str, next_path: str) -> None:
    english_page(page)
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + r"(\?.*)?$"))


def test_a_new_contact_with_a_known_email_is_warned_about_the_duplicate(
    page: Any, orm: None
) -> None:
    # Given an organization whose CRM already has Ana Souza
    org = crm_make.organization()
    admin = crm_make.member(org, role=Role.ORG_ADMIN, email="admin@example.com", language="en")
    existing = crm_make.contact(org, "Ana Souza", email="ana@cliente.com.br")
    sign_in(page, admin.email, "/crm/contacts")
    expect(page.get_by_test_id("contact-list")).to_contain_text("Ana Souza")

    # When the admin starts a new contact with Ana's e-mail
    page.get_by_test_id("new-contact").click()
    page.get_by_label("Name", exact=True).fill("Ana S.")
    page.get_by_label("E-mail", exact=True).fill("ANA@cliente.com.br")

    # Then a warning names the existing contact while they type
    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_contain_text("Possible duplicate")
    expect(warning.get_by_role("link", name="Ana Souza")).to_have_attribute(
        "href", f"/crm/contacts/{existing.pk}"
    )

    # And when they add it anyway, the new contact shows the duplicate, mergeable by an admin
    page.get_by_test_id("create-contact").click()
    created = Contact.objects.exclude(pk=existing.pk)
    expect(page).to_have_url(re.compile(r"/crm/contacts/\d+$"))
    assert [contact.name for contact in created] == ["Ana S."]
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana S.")
    duplicates = page.get_by_test_id("contact-duplicates")
    expect(duplicates).to_contain_text("Ana Souza")
    expect(duplicates.get_by_test_id("merge-duplicate")).to_be_visible()


def test_an_agent_converts_a_lead_into_a_deal_and_lands_on_it(page: Any, orm: None) -> None:
    # Given a lead and a pipeline
    org = crm_make.organization()
    agent = crm_make.member(org, role=Role.AGENT, email="agent@example.com", language="en")
    pipeline = crm_make.pipeline(org, "Vendas")
    stages = crm_make.stages(pipeline)
    lead = Lead.objects.create(
        organization=org, name="Bruno Lima", email="bruno@example.com", company_name="Lima ME"
    )
    sign_in(page, agent.email, "/crm/leads")
    expect(page.get_by_test_id("lead-list")).to_contain_text("Bruno Lima")

    # When the agent converts it into the "Qualified" stage for R$ 1.500,00
    page.get_by_test_id("convert-lead").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Pipeline").select_option(label="Vendas")
    dialog.get_by_label("Stage").select_option(label="Qualified")
    dialog.get_by_label("Deal title").fill("Bruno · plano anual")
    dialog.get_by_label("Value (R$)").fill("1.500,00")
    dialog.get_by_test_id("dialog-submit").click()

    # Then the new deal opens, and the lead is converted
    expect(page).to_have_url(re.compile(r"/crm/deals/\d+$"))
    deal = Deal.objects.get()
    assert page.url.endswith(f"/crm/deals/{deal.pk}")
    assert (deal.title, deal.value, deal.stage_id) == ("Bruno · plano anual", 150000, stages[1].pk)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_deal_id == deal.pk


def test_the_import_wizard_imports_good_rows_and_lists_the_bad_one(page: Any, orm: None) -> None:
    # Given an agent with a CSV of three contacts, one without a name
    org = crm_make.organization()
    agent = crm_make.member(org, role=Role.AGENT, email="agent@example.com", language="en")
    csv = (
        b"Nome,E-mail,Telefone\n"
        b"Carla Dias,carla@example.com,+5511988887777\n"
        b",semnome@example.com,\n"
        b"Davi Reis,davi@example.com,\n"
    )
    sign_in(page, agent.email, "/crm/import")

    # When they upload it as contacts
    page.get_by_label("Import", exact=True).select_option("contacts")
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "contatos.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_test_id("upload-import").click()

    # Then the preview maps the columns from the suggestion
    expect(page).to_have_url(re.compile(r"/crm/import/\d+$"))
    expect(page.get_by_test_id("import-preview")).to_contain_text("Carla Dias")
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping).to_have_count(3)
    expect(mapping.nth(0)).to_have_value("name")
    expect(mapping.nth(1)).to_have_value("email")

    # And when they start it, the progress reaches the end with the bad row listed
    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("import-progress")).to_have_attribute("value", "3")
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    expect(page.get_by_test_id("import-errors")).to_have_text("1")
    bad_rows = page.get_by_test_id("import-error-rows").locator("tbody tr")
    expect(bad_rows).to_have_count(1)
    job = ImportJob.objects.get()
    assert len(job.errors) == 1
    expect(bad_rows.first.locator("th")).to_have_text(str(job.errors[0]["row"]))
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["Carla Dias", "Davi Reis"]


def test_the_inbox_panel_creates_a_deal_for_the_conversation_in_one_click(
    page: Any, orm: None
) -> None:
    # Given an agent serving a conversation with Beatriz, and a pipeline
    org = inbox_make.organization()
    queue = inbox_make.queue(org)
    agent = inbox_make.agent(org, queue, email="agent@example.com", language="en")
    who = inbox_make.contact(org, name="Beatriz Melo", email="beatriz@example.com")
    conversation = inbox_make.conversation(queue, who=who, assignee=agent)
    crm_make.pipeline(org, "Vendas")
    sign_in(page, agent.email, f"/inbox/{conversation.pk}")

    # When the CRM panel shows her contact and the agent clicks "Create deal"
    panel = page.get_by_test_id("crm-panel")
    expect(panel.get_by_test_id("crm-panel-contact")).to_have_text("Beatriz Melo")
    expect(panel.get_by_test_id("crm-panel-no-deals")).to_be_visible()
    panel.get_by_test_id("crm-panel-create-deal").click()

    # Then the deal exists for her contact and the panel lists it, linked
    deal_link = panel.get_by_test_id("crm-panel-deal").get_by_role("link")
    expect(deal_link).to_have_count(1)
    deal = Deal.objects.get()
    contact = Contact.objects.get()
    assert (deal.contact_id, contact.name) == (contact.pk, "Beatriz Melo")
    expect(deal_link).to_have_attribute("href", f"/crm/deals/{deal.pk}")
    expect(panel.get_by_test_id("crm-panel-contact")).to_have_attribute(
        "href", f"/crm/contacts/{contact.pk}"
    )


def test_botconversa_settings_keep_the_key_secret_and_test_the_connection(
    page: Any, orm: None
) -> None:
    # Given an org admin on the BotConversa screen
    org = crm_make.organization()
    admin = crm_make.member(org, role=Role.ORG_ADMIN, email="admin@example.com", language="en")
    sign_in(page, admin.email, "/crm/botconversa")
    expect(page.get_by_test_id("bc-api-key-state")).to_have_text("No key yet.")
    expect(page.get_by_test_id("bc-inbound-url")).to_have_value(
        re.compile(rf"/webhooks/botconversa/{org.pk}/[^/]+/$")
    )

    # When they save the sandbox's key
    page.get_by_test_id("bc-api-key").fill("demo")
    page.get_by_test_id("bc-save").click()

    # Then the key is never shown back; and it is stored encrypted
    # (a key this short does not even show its last four characters)
    expect(page.get_by_test_id("bc-api-key-state")).to_have_text(
        "A key is set. Type a new one to replace it."
    )
    expect(page.get_by_test_id("bc-api-key")).to_have_value("")
    connection = BotConversaConnection.objects.get(organization=org)
    assert connection.api_key_encrypted not in ("", "demo")
    page.reload()
    expect(page.get_by_test_id("bc-api-key")).to_have_value("")

    # And "Test connection" reaches the sandbox and lists its tags and flows
    page.get_by_test_id("bc-test").click()
    status = page.get_by_test_id("bc-test-status")
    expect(status).to_have_attribute("data-ok", "true")
    result = page.get_by_test_id("bc-test-result")
    expect(result).to_contain_text("qualificado")
    expect(result).to_contain_text("Boas-vindas")


def test_an_agent_filters_the_deals_saves_the_view_and_exports_it(page: Any, orm: None) -> None:
    # Given two deals of the agent's in "Vendas" and one of a colleague's
    org = crm_make.organization()
    agent = crm_make.member(org, role=Role.AGENT, email="agent@example.com", language="en")
    colleague = crm_make.member(org, role=Role.AGENT)
    pipeline = crm_make.pipeline(org, "Vendas")
    first, second = crm_make.stages(pipeline)[:2]
    crm_make.deals(first, 2, title="Curso", value=250000, owner=agent)
    crm_make.deals(second, 1, title="Outro", value=1000, owner=colleague)
    sign_in(page, agent.email, "/crm/deals")
    rows = page.get_by_test_id("deal-list").locator("tbody tr")
    expect(rows).to_have_count(3)

    # When they keep their own deals of "Vendas" worth R$ 1.000,00 or more
    filters = page.get_by_test_id("deal-filters")
    filters.get_by_label("Pipeline").select_option(label="Vendas")
    filters.get_by_label("Owner").select_option("me")
    filters.get_by_label("From").first.fill("1.000,00")
    filters.get_by_test_id("apply-filters").click()

    # Then only those are listed, and the address carries the filters (value in centavos)
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("deal-list")).not_to_contain_text("Outro")
    expect(page).to_have_url(re.compile(r"owner=me"))
    assert "value_min=100000" in page.url

    # When they save the filters as a view
    page.get_by_test_id("save-view").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Meus cursos")
    dialog.get_by_test_id("dialog-submit").click()
    expect(page.get_by_test_id("saved-views")).to_have_value(re.compile(r"^\d+$"))
    view = SavedView.objects.get()
    assert (view.name, view.entity, view.mode) == ("Meus cursos", "deals", "list")
    assert view.filters == {"pipeline": pipeline.pk, "owner": "me", "value_min": 100000}

    # And export them: the CSV has exactly the listed deals
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    content = Path(download.path()).read_text(encoding="utf-8")
    assert download.suggested_filename.endswith(".csv")
    assert ("Curso 1" in content, "Curso 2" in content, "Outro" in content) == (True, True, False)


def test_an_agent_adds_a_task_about_a_deal_and_completes_it(page: Any, orm: None) -> None:
    # Given an agent with a deal
    org = crm_make.organization()
    agent = crm_make.member(org, role=Role.AGENT, email="agent@example.com", language="en")
    pipeline = crm_make.pipeline(org, "Vendas")
    (deal,) = crm_make.deals(crm_make.stages(pipeline)[0], 1, title="Escola Sol")
    sign_in(page, agent.email, "/crm/tasks")
    expect(page.locator(".crm-empty")).to_have_text("No tasks here.")

    # When they add a task about the deal, found by searching
    page.get_by_test_id("new-task").click()
    page.get_by_label("Title").fill("Ligar para a diretora")
    page.get_by_label("Search", exact=True).fill("Escola")
    page.get_by_test_id("task-subject-option").filter(has_text="Escola Sol 1").click()
    expect(page.locator("#new-task-subject-chosen")).to_have_text("Chosen: Escola Sol 1")
    page.get_by_test_id("create-task").click()

    # Then it is listed as mine, about the deal
    task_item = page.get_by_test_id("task")
    expect(task_item).to_have_count(1)
    expect(task_item).to_contain_text("Ligar para a diretora")
    expect(task_item.get_by_role("link", name="Escola Sol 1")).to_have_attribute(
        "href", f"/crm/deals/{deal.pk}"
    )
    task = Task.objects.get()
    assert (task.deal_id, task.assignee_id, task.done_at) == (deal.pk, agent.pk, None)

    # And when they mark it done, it leaves the "to do" list
    task_item.get_by_test_id("complete-task").click()
    expect(page.get_by_test_id("task")).to_have_count(0)
    task.refresh_from_db()
    assert task.done_at is not None


def test_on_a_phone_an_agent_adds_a_company_and_a_note_to_one_of_its_contacts(
    page: Any, orm: None
) -> None:
    # Given an agent on a phone-sized screen, and a contact
    page.set_viewport_size({"width": 390, "height": 844})
    org = crm_make.organization()
    agent = crm_make.member(org, role=Role.AGENT, email="agent@example.com", language="en")
    contact = crm_make.contact(org, "Caio Prado", email="caio@example.com")
    sign_in(page, agent.email, "/crm/companies")

    # When they add a company
    page.get_by_test_id("new-company").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Colégio Prado")
    dialog.get_by_label("Website domain").fill("prado.edu.br")
    dialog.get_by_test_id("dialog-submit").click()

    # Then its page opens, with no contacts yet
    expect(page).to_have_url(re.compile(r"/crm/companies/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Colégio Prado")
    company = contact.organization.crm_companies.get()

    # When they put the contact in the company and write a note about them
    page.goto(f"/crm/contacts/{contact.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Caio Prado")
    page.get_by_label("Company").select_option(label="Colégio Prado")
    page.get_by_test_id("save-contact").click()
    expect(page.get_by_test_id("save-contact")).to_be_enabled()
    page.get_by_test_id("note-body").fill("Pediu proposta para 2026.")
    page.get_by_test_id("add-note").click()

    # Then the timeline shows the note, and the company lists the contact
    expect(page.get_by_test_id("contact-timeline")).to_contain_text("Pediu proposta para 2026.")
    contact.refresh_from_db()
    assert contact.company_id == company.pk
    page.goto(f"/crm/companies/{company.pk}")
    expect(page.get_by_role("link", name="Caio Prado")).to_have_attribute(
        "href", f"/crm/contacts/{contact.pk}"
    )
    # And the list of companies is a list of cards on the phone
    page.goto("/crm/companies")
    cell = page.get_by_test_id("company-list").locator("tbody td").first
    expect(cell).to_have_css("display", "grid")
