"""The contacts, companies, leads and inbox-panel API: payloads, permissions, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for, rows
from crm.board import card_by_id
from crm.contact_selectors import company_data, contact_data, lead_data
from crm.models import Activity, ActivityKind, Company, Contact, Deal, Label, Lead, LeadStatus
from crm.tests import factories as make
from queueing.models import ConversationChannel
from queueing.tests import inbox_factories as inbox_make

pytestmark = pytest.mark.django_db


def world() -> dict[str, Any]:
    team = make.team()
    org = team["org"]
    team["pipeline"] = make.pipeline(org)
    team["label"] = Label.objects.create(organization=org, name="VIP", color="#ff0000")
    return team


def url(org: Any, rest: str) -> str:
    return f"/api/v1/crm/{org.pk}/{rest}"


def queries(client: Any, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200, response.content
    return len(captured)


# --- Contacts --------------------------------------------------------------------------------


def test_it_lists_contacts_with_their_payload_and_search() -> None:
    w = world()
    ana = make.contact(w["org"], "Ana", email="ana@example.com", phone="+5511999998888")
    ana.labels.add(w["label"])
    make.contact(w["org"], "Bruno")
    merged = make.contact(w["org"], "Ana twin", merged_into=ana)
    make.contact(w["other_org"], "Ana foreign")
    client = client_for(w["viewer"])

    everyone = client.get(url(w["org"], "contacts/"))
    by_phone = client.get(url(w["org"], "contacts/"), {"q": "(11) 99999"})
    by_label = client.get(url(w["org"], "contacts/"), {"label": w["label"].pk})

    assert everyone.status_code == 200
    assert everyone.json()["count"] == 2
    assert [item["name"] for item in everyone.json()["results"]] == ["Ana", "Bruno"]
    assert by_phone.json()["results"] == [contact_data(Contact.objects.get(pk=ana.pk))]
    assert by_phone.json()["results"][0]["labels"] == [
        {"id": w["label"].pk, "name": "VIP", "color": "#ff0000"}
    ]
    assert [item["id"] for item in by_label.json()["results"]] == [ana.pk]
    assert merged.pk not in [item["id"] for item in everyone.json()["results"]]


@pytest.mark.parametrize(
    ("entity", "build"),
    [
        ("contacts", lambda org, n: make.contact(org, f"C{n}", owner=None)),
        ("companies", lambda org, n: Company.objects.create(organization=org, name=f"Co{n}")),
        ("leads", lambda org, n: Lead.objects.create(organization=org, name=f"L{n}")),
    ],
)
def test_lists_take_the_same_queries_for_one_or_twenty_rows(entity: str, build: Any) -> None:
    w = world()
    client = client_for(w["agent"])
    label = w["label"]

    def add(n: int) -> None:
        record = build(w["org"], n)
        record.labels.add(label)
        record.owner = w["admin"]
        record.save()
        if entity == "contacts":
            record.company = Company.objects.create(organization=w["org"], name=f"X{n}")
            record.save()

    add(0)
    one = queries(client, url(w["org"], f"{entity}/"))
    for n in range(1, 20):
        add(n)
    twenty = queries(client, url(w["org"], f"{entity}/"))

    assert one == twenty


def test_it_creates_a_contact_and_answers_its_detail() -> None:
    w = world()
    twin = make.contact(w["org"], "Twin", email="ANA@example.com")

    response = client_for(w["agent"]).post(
        url(w["org"], "contacts/"),
        {
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "11 99999-8888",
            "label_ids": [w["label"].pk],
            "owner_id": w["agent"].pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    contact = Contact.objects.get(name="Ana")
    assert response.json() == {
        **contact_data(contact),
        "deals": [],
        "conversations": [],
        "calls": [],
        "duplicates": [{"id": twin.pk, "name": "Twin", "email": "ANA@example.com", "phone": ""}],
    }
    assert response.json()["phone"] == "+5511999998888"
    assert response.json()["owner"] == {"id": w["agent"].pk, "name": w["agent"].get_full_name()}


def test_contact_writes_refuse_bad_input_viewers_and_outsiders() -> None:
    w = world()
    contact = make.contact(w["org"], "Ana")
    address = url(w["org"], f"contacts/{contact.pk}/")

    assert_error(
        client_for(w["agent"]).post(
            url(w["org"], "contacts/"), {"name": "X", "phone": "junk"}, format="json"
        ),
        422,
        "crm.invalid_phone",
    )
    assert_error(
        client_for(w["viewer"]).post(url(w["org"], "contacts/"), {"name": "X"}, format="json"),
        403,
        "crm.permission_denied",
    )
    assert_error(
        client_for(w["viewer"]).patch(address, {"name": "X"}, format="json"),
        403,
        "crm.permission_denied",
    )
    assert_error(client_for(w["outsider"]).get(address), 404, "crm.not_found")
    assert_error(client_for(w["agent"]).delete(address), 403, "crm.permission_denied")
    assert list(Contact.objects.values_list("name", flat=True)) == ["Ana"]


def test_another_organizations_contact_is_not_found() -> None:
    w = world()
    foreign = make.contact(w["other_org"], "Foreign")

    assert_error(
        client_for(w["admin"]).get(url(w["org"], f"contacts/{foreign.pk}/")), 404, "crm.not_found"
    )


def test_it_updates_and_deletes_a_contact() -> None:
    w = world()
    contact = make.contact(w["org"], "Ana")
    address = url(w["org"], f"contacts/{contact.pk}/")

    patched = client_for(w["agent"]).patch(address, {"job_title": "CEO"}, format="json")
    deleted = client_for(w["admin"]).delete(address)

    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["job_title"]) == ("Ana", "CEO")
    assert deleted.status_code == 204
    assert rows(Contact) == []


def test_the_contact_detail_shows_visible_deals_conversations_and_calls() -> None:
    w = world()
    contact = make.contact(w["org"], "Ana")
    (deal,) = make.deals(make.stages(w["pipeline"])[0], 1, contact=contact)
    hidden = make.pipeline(w["org"], "Secret", restricted=True)
    make.deals(make.stages(hidden)[0], 1, contact=contact)

    answer = client_for(w["agent"]).get(url(w["org"], f"contacts/{contact.pk}/"))

    assert answer.status_code == 200
    assert answer.json()["deals"] == [card_by_id(deal.pk)]
    assert (answer.json()["conversations"], answer.json()["calls"]) == ([], [])


def test_duplicates_endpoint() -> None:
    w = world()
    ana = make.contact(w["org"], "Ana", email="ana@example.com")
    phone = make.contact(w["org"], "Phone", phone="+5511999998888")

    answer = client_for(w["viewer"]).get(
        url(w["org"], "contacts/duplicates/"),
        {"email": "ANA@EXAMPLE.COM", "phone": "11999998888", "exclude": str(phone.pk)},
    )

    assert answer.status_code == 200
    assert answer.json() == [{"id": ana.pk, "name": "Ana", "email": "ana@example.com", "phone": ""}]


def test_notes_and_timeline_of_a_contact() -> None:
    w = world()
    contact = make.contact(w["org"], "Ana")

    created = client_for(w["agent"]).post(
        url(w["org"], f"contacts/{contact.pk}/notes/"), {"body": " Called her "}, format="json"
    )
    refused = client_for(w["viewer"]).post(
        url(w["org"], f"contacts/{contact.pk}/notes/"), {"body": "x"}, format="json"
    )
    timeline = client_for(w["viewer"]).get(url(w["org"], f"contacts/{contact.pk}/timeline/"))

    assert created.status_code == 201
    note = Activity.objects.get()
    assert created.json() == {
        "id": note.pk,
        "kind": "note",
        "actor": {"id": w["agent"].pk, "name": w["agent"].get_full_name()},
        "body": "Called her",
        "data": {},
        "created_at": created.json()["created_at"],
        "deal_id": None,
        "contact_id": contact.pk,
        "lead_id": None,
        "conversation": None,
        "call": None,
        "task": None,
    }
    assert_error(refused, 403, "crm.permission_denied")
    assert timeline.status_code == 200
    assert timeline.json()["results"] == [created.json()]


def test_only_admins_merge_contacts_through_the_api() -> None:
    w = world()
    target = make.contact(w["org"], "Ana")
    source = make.contact(w["org"], "Ana S.", email="ana@example.com")
    address = url(w["org"], f"contacts/{target.pk}/merge/")

    assert_error(
        client_for(w["agent"]).post(address, {"source_ids": [source.pk]}, format="json"),
        403,
        "crm.permission_denied",
    )
    assert_error(
        client_for(w["admin"]).post(address, {"source_ids": [source.pk, 999999]}, format="json"),
        404,
        "crm.not_found",
    )
    merged = client_for(w["admin"]).post(address, {"source_ids": [source.pk]}, format="json")

    assert merged.status_code == 200
    assert (merged.json()["id"], merged.json()["email"]) == (target.pk, "ana@example.com")
    assert Contact.objects.get(pk=source.pk).merged_into_id == target.pk
    assert_error(
        client_for(w["admin"]).get(url(w["org"], f"contacts/{source.pk}/")), 404, "crm.not_found"
    )


# --- Companies -------------------------------------------------------------------------------


def test_companies_crud() -> None:
    w = world()
    client = client_for(w["agent"])

    created = client.post(
        url(w["org"], "companies/"), {"name": "Acme", "domain": "acme.com"}, format="json"
    )
    company = Company.objects.get()
    make.contact(w["org"], "Ana", company=company)
    detail = client.get(url(w["org"], f"companies/{company.pk}/"))
    listed = client.get(url(w["org"], "companies/"))
    company.refresh_from_db()
    expected = {**company_data(company), "contact_count": 1}
    patched = client.patch(
        url(w["org"], f"companies/{company.pk}/"), {"tax_id": "123"}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["contact_count"] == 0
    assert listed.json()["results"] == [expected]
    assert detail.json()["contacts"] == [
        {"id": Contact.objects.get().pk, "name": "Ana", "email": "", "phone": ""}
    ]
    assert (patched.json()["tax_id"], patched.json()["contact_count"]) == ("123", 1)
    assert_error(
        client_for(w["viewer"]).delete(url(w["org"], f"companies/{company.pk}/")),
        403,
        "crm.permission_denied",
    )
    assert (
        client_for(w["admin"]).delete(url(w["org"], f"companies/{company.pk}/")).status_code == 204
    )


# --- Leads -----------------------------------------------------------------------------------


def test_leads_crud_and_filters() -> None:
    w = world()
    client = client_for(w["agent"])

    created = client.post(
        url(w["org"], "leads/"),
        {"name": "Bruno", "email": "bruno@example.com", "status": "contacted"},
        format="json",
    )
    Lead.objects.create(organization=w["org"], name="Carla")
    lead = Lead.objects.get(name="Bruno")
    filtered = client.get(url(w["org"], "leads/"), {"status": "contacted"})
    patched = client.patch(url(w["org"], f"leads/{lead.pk}/"), {"status": "bogus"}, format="json")

    assert created.status_code == 201
    assert created.json() == {
        **lead_data(lead),
        "duplicates": [],
        "contact_duplicates": [],
    }
    assert filtered.json()["results"] == [lead_data(lead)]
    assert_error(patched, 422, "crm.invalid_status", {"field": "status"})


def test_converting_a_lead_through_the_api() -> None:
    w = world()
    lead = Lead.objects.create(organization=w["org"], name="Bruno", email="bruno@example.com")
    address = url(w["org"], f"leads/{lead.pk}/convert/")

    assert_error(
        client_for(w["viewer"]).post(address, {"pipeline_id": w["pipeline"].pk}, format="json"),
        403,
        "crm.permission_denied",
    )
    converted = client_for(w["agent"]).post(
        address, {"pipeline_id": w["pipeline"].pk, "value": 5000, "title": "Plano"}, format="json"
    )
    again = client_for(w["agent"]).post(address, {"pipeline_id": w["pipeline"].pk}, format="json")

    assert converted.status_code == 200, converted.content
    contact = Contact.objects.get()
    deal = Deal.objects.get()
    assert converted.json() == {"contact": contact_data(contact), "deal": card_by_id(deal.pk)}
    assert (deal.title, deal.value) == ("Plano", 5000)
    assert Lead.objects.get().status == LeadStatus.CONVERTED
    assert_error(again, 409, "crm.lead_converted")
    assert Deal.objects.count() == 1


def test_converting_into_a_hidden_pipeline_or_with_a_bad_value() -> None:
    w = world()
    lead = Lead.objects.create(organization=w["org"], name="Bruno")
    hidden = make.pipeline(w["org"], "Secret", restricted=True)
    address = url(w["org"], f"leads/{lead.pk}/convert/")

    assert_error(
        client_for(w["agent"]).post(address, {"pipeline_id": hidden.pk}, format="json"),
        404,
        "crm.not_found",
    )
    response = client_for(w["agent"]).post(
        address, {"pipeline_id": w["pipeline"].pk, "value": "12,50"}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "crm.invalid_value"
    assert (rows(Contact), rows(Deal)) == ([], [])


def test_lead_merge_is_for_admins() -> None:
    w = world()
    target = Lead.objects.create(organization=w["org"], name="Bruno")
    source = Lead.objects.create(organization=w["org"], name="B", phone="+5511999998888")
    address = url(w["org"], f"leads/{target.pk}/merge/")

    assert_error(
        client_for(w["agent"]).post(address, {"source_ids": [source.pk]}, format="json"),
        403,
        "crm.permission_denied",
    )
    merged = client_for(w["admin"]).post(address, {"source_ids": [source.pk]}, format="json")

    assert merged.status_code == 200
    assert merged.json()["phone"] == "+5511999998888"
    assert client_for(w["admin"]).get(url(w["org"], "leads/")).json()["count"] == 1


# --- The inbox panel -------------------------------------------------------------------------


def panel_world() -> dict[str, Any]:
    org = inbox_make.organization()
    support_queue = inbox_make.queue(org, strategy="manual")
    other_queue = inbox_make.queue(org, name="Outra", strategy="manual")
    foreign_org = inbox_make.organization()
    foreign_queue = inbox_make.queue(foreign_org, strategy="manual")
    who = inbox_make.contact(org, name="Maria", email="maria@example.com")
    return {
        "org": org,
        "pipeline": make.pipeline(org),
        "agent": inbox_make.agent(org, support_queue),
        "outside_agent": inbox_make.agent(org, other_queue),
        "viewer": inbox_make.member(org, role=Role.VIEWER),
        "admin": inbox_make.agent(org, role=Role.ORG_ADMIN),
        "foreign_admin": inbox_make.agent(foreign_org, role=Role.ORG_ADMIN),
        "conversation": inbox_make.conversation(support_queue, who=who, subject="Boleto"),
        "foreign": inbox_make.conversation(foreign_queue, channel=ConversationChannel.WIDGET),
    }


def test_the_panel_links_the_conversation_and_answers_its_crm_picture() -> None:
    w = panel_world()
    conversation = w["conversation"]

    answer = client_for(w["agent"]).get(url(w["org"], f"conversations/{conversation.pk}/crm/"))

    assert answer.status_code == 200
    contact = Contact.objects.get()
    assert answer.json() == {
        "contact": contact_data(contact),
        "deals": [],
        "conversations": [
            {
                "id": conversation.pk,
                "subject": "Boleto",
                "channel": "widget",
                "status": "open",
                "last_message_at": None,
            }
        ],
    }


def test_a_conversation_not_seen_or_of_another_organization_is_not_found() -> None:
    w = panel_world()
    mine = url(w["org"], f"conversations/{w['conversation'].pk}/crm/")
    theirs = url(w["org"], f"conversations/{w['foreign'].pk}/crm/")

    assert_error(client_for(w["outside_agent"]).get(mine), 404, "crm.not_found")
    assert_error(client_for(w["admin"]).get(theirs), 404, "crm.not_found")
    assert_error(client_for(w["foreign_admin"]).get(mine), 404, "crm.not_found")
    assert_error(
        client_for(w["outside_agent"]).post(
            mine + "deal/", {"pipeline_id": w["pipeline"].pk}, format="json"
        ),
        404,
        "crm.not_found",
    )
    assert rows(Contact) == []


def test_one_click_deal_through_the_api() -> None:
    w = panel_world()
    address = url(w["org"], f"conversations/{w['conversation'].pk}/crm/deal/")

    assert_error(
        client_for(w["viewer"]).post(address, {"pipeline_id": w["pipeline"].pk}, format="json"),
        403,
        "crm.permission_denied",
    )
    created = client_for(w["agent"]).post(
        address, {"pipeline_id": w["pipeline"].pk, "value": 1000}, format="json"
    )

    assert created.status_code == 201, created.content
    deal = Deal.objects.get()
    assert created.json() == card_by_id(deal.pk)
    assert (deal.title, deal.value, deal.owner_id) == ("Maria — Boleto", 1000, w["agent"].pk)
    assert list(Activity.objects.filter(deal=deal).values_list("kind", "conversation_id")) == [
        (ActivityKind.CONVERSATION, w["conversation"].pk)
    ]


def test_relinking_through_the_api() -> None:
    w = panel_world()
    other = make.contact(w["org"], "Maria Souza")
    address = url(w["org"], f"conversations/{w['conversation'].pk}/crm/contact/")

    relinked = client_for(w["agent"]).put(address, {"contact_id": other.pk}, format="json")
    refused = client_for(w["agent"]).put(address, {"contact_id": 999999}, format="json")

    assert relinked.status_code == 200
    assert relinked.json()["contact"] == contact_data(Contact.objects.get(pk=other.pk))
    assert_error(refused, 422, "crm.invalid_reference", {"field": "contact_id"})
