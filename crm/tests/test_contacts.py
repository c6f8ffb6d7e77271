"""Contacts, companies and leads: writes, phones, duplicates, merges and lead conversion."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from crm import contacts
from crm.models import (
    Activity,
    ActivityKind,
    BotConversaSubscriber,
    Company,
    Contact,
    Deal,
    Label,
    Lead,
    LeadStatus,
    SupportContactLink,
    Task,
)
from crm.phones import normalize_phone
from crm.tests import factories as make
from queueing.tests import inbox_factories as inbox_make

pytestmark = pytest.mark.django_db


def error_code(excinfo: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str]:
    return excinfo.value.status_code, excinfo.value.code


def activities(**where: Any) -> list[tuple[str, int | None, dict[str, Any]]]:
    return list(
        Activity.objects.filter(**where).order_by("id").values_list("kind", "actor_id", "data")
    )


# --- Phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(11) 99999-8888", "+5511999998888"),
        ("+55 11 99999-8888", "+5511999998888"),
        ("011 99999 8888", "+5511999998888"),
        ("+1 650-253-0000", "+16502530000"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_it_normalizes_phones_to_e164(raw: str | None, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "123", "+55 11 9", "9" * 50])
def test_it_refuses_junk_phones(raw: str) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        normalize_phone(raw)
    assert error_code(excinfo) == (422, "crm.invalid_phone")


# --- Contacts --------------------------------------------------------------------------------


def test_it_creates_a_contact_with_a_normalized_phone_labels_and_a_timeline_line() -> None:
    team = make.team()
    org = team["org"]
    company = Company.objects.create(organization=org, name="Acme")
    label = Label.objects.create(organization=org, name="VIP")

    contact = contacts.contact_create(
        actor=team["agent"],
        organization_id=org.pk,
        name="  Ana Souza ",
        email="Ana@Example.com",
        phone="(11) 99999-8888",
        company_id=company.pk,
        owner_id=team["admin"].pk,
        source="site",
        label_ids=[label.pk],
    )

    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.phone, contact.company_id) == (
        "Ana Souza",
        "Ana@Example.com",
        "+5511999998888",
        company.pk,
    )
    assert (contact.owner_id, contact.source, contact.created_by_id) == (
        team["admin"].pk,
        "site",
        team["agent"].pk,
    )
    assert list(contact.labels.values_list("pk", flat=True)) == [label.pk]
    assert activities(contact=contact) == [(ActivityKind.CREATED, team["agent"].pk, {})]


@pytest.mark.parametrize(
    ("fields", "status", "code", "extra"),
    [
        ({"email": "not-an-email"}, 422, "crm.invalid_email", {}),
        ({"phone": "12"}, 422, "crm.invalid_phone", {}),
        ({"name": "   "}, 422, "crm.invalid_name", {"field": "name"}),
        ({"owner_id": -1}, 422, "crm.invalid_reference", {"field": "owner_id"}),
        ({"company_id": -1}, 422, "crm.invalid_reference", {"field": "company_id"}),
        ({"label_ids": [-1]}, 422, "crm.invalid_reference", {"field": "label_ids"}),
    ],
)
def test_it_refuses_a_contact_with_bad_fields_and_writes_nothing(
    fields: dict[str, Any], status: int, code: str, extra: dict[str, Any]
) -> None:
    team = make.team()
    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_create(
            actor=team["agent"],
            organization_id=team["org"].pk,
            **{"name": "Ana", **fields},
        )
    assert (excinfo.value.status_code, excinfo.value.code, excinfo.value.extra) == (
        status,
        code,
        extra,
    )
    assert rows(Contact) == []
    assert rows(Activity) == []


def test_it_refuses_references_of_another_organization() -> None:
    team = make.team()
    foreign_label = Label.objects.create(organization=team["other_org"], name="X")
    foreign_company = Company.objects.create(organization=team["other_org"], name="X")

    for fields, field in (
        ({"label_ids": [foreign_label.pk]}, "label_ids"),
        ({"company_id": foreign_company.pk}, "company_id"),
        ({"owner_id": team["outsider"].pk}, "owner_id"),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            contacts.contact_create(
                actor=team["agent"], organization_id=team["org"].pk, name="Ana", **fields
            )
        assert (excinfo.value.code, excinfo.value.extra) == (
            "crm.invalid_reference",
            {"field": field},
        )
    assert rows(Contact) == []


def test_viewers_and_outsiders_cannot_create_contacts() -> None:
    team = make.team()
    for who, expected in ((team["viewer"], 403), (team["outsider"], 404)):
        with pytest.raises(ApplicationError) as excinfo:
            contacts.contact_create(actor=who, organization_id=team["org"].pk, name="Ana")
        assert excinfo.value.status_code == expected
    assert rows(Contact) == []


def test_it_updates_a_contact_and_records_what_changed() -> None:
    team = make.team()
    label = Label.objects.create(organization=team["org"], name="VIP")
    contact = make.contact(team["org"], "Ana", email="ana@example.com")

    contacts.contact_update(
        actor=team["agent"],
        contact=contact,
        name="Ana Souza",
        email="ana@example.com",
        phone="11 98888-7777",
        label_ids=[label.pk],
    )

    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("Ana Souza", "+5511988887777")
    assert activities(contact=contact) == [
        (
            ActivityKind.FIELD_CHANGE,
            team["agent"].pk,
            {
                "changes": {
                    "name": ["Ana", "Ana Souza"],
                    "phone": ["", "+5511988887777"],
                    "label_ids": [[], [label.pk]],
                }
            },
        )
    ]


def test_an_update_that_changes_nothing_records_nothing() -> None:
    team = make.team()
    contact = make.contact(team["org"], "Ana")

    contacts.contact_update(actor=team["agent"], contact=contact, name="Ana")

    assert rows(Activity) == []


def test_only_admins_and_the_owner_delete_a_contact() -> None:
    team = make.team()
    mine = make.contact(team["org"], "Mine", owner=team["agent"])
    theirs = make.contact(team["org"], "Theirs", owner=team["admin"])

    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_delete(actor=team["agent"], contact=theirs)
    assert error_code(excinfo) == (403, "crm.permission_denied")
    contacts.contact_delete(actor=team["agent"], contact=mine)
    contacts.contact_delete(actor=team["admin"], contact=theirs)

    assert rows(Contact) == []


# --- Duplicates ------------------------------------------------------------------------------


def test_it_finds_duplicates_by_email_in_any_case_or_by_normalized_phone() -> None:
    team = make.team()
    org = team["org"]
    by_email = make.contact(org, "A", email="Ana@Example.com")
    by_phone = make.contact(org, "B", phone="+5511999998888")
    merged = make.contact(org, "C", email="ana@example.com")
    merged.merged_into = by_email
    merged.save()
    make.contact(org, "D", email="other@example.com")
    make.contact(team["other_org"], "E", email="ana@example.com")

    found = contacts.duplicates_of(
        organization_id=org.pk, email="ANA@example.COM", phone="(11) 99999-8888"
    )
    excluded = contacts.duplicates_of(
        organization_id=org.pk, email="ana@example.com", phone="", exclude_id=by_email.pk
    )

    assert found == [by_email, by_phone]
    assert excluded == []
    assert contacts.duplicates_of(organization_id=org.pk, email="", phone="junk") == []


# --- Merge -----------------------------------------------------------------------------------


def merge_world() -> dict[str, Any]:
    team = make.team()
    org = team["org"]
    vip = Label.objects.create(organization=org, name="VIP")
    hot = Label.objects.create(organization=org, name="Hot")
    company = Company.objects.create(organization=org, name="Acme")
    target = make.contact(org, "Ana", email="", phone="")
    target.labels.add(hot)
    first = make.contact(org, "Ana S.", email="ana@example.com", company=company)
    first.labels.add(vip, hot)
    second = make.contact(org, "Ana Souza", phone="+5511999998888", job_title="CEO")
    stage = make.stages(make.pipeline(org))[0]
    deal_a, deal_b = make.deals(stage, 2)
    Deal.objects.filter(pk=deal_a.pk).update(contact=first)
    Deal.objects.filter(pk=deal_b.pk).update(contact=second)
    task = Task.objects.create(
        organization=org,
        title="Call",
        due_at=timezone.now(),
        contact=second,
        assignee=team["agent"],
    )
    note = Activity.objects.create(organization=org, kind=ActivityKind.NOTE, contact=first)
    support_contact = inbox_make.contact(org)
    link = SupportContactLink.objects.create(contact=first, support_contact=support_contact)
    subscriber = BotConversaSubscriber.objects.create(
        organization=org, contact=second, subscriber_id="s1"
    )
    lead = Lead.objects.create(organization=org, name="Ana", converted_contact=first)
    return {
        **team,
        "target": target,
        "first": first,
        "second": second,
        "deals": (deal_a, deal_b),
        "task": task,
        "note": note,
        "link": link,
        "subscriber": subscriber,
        "lead": lead,
        "labels": (vip, hot),
        "company": company,
    }


def test_a_merge_moves_everything_to_the_target_and_fills_its_empty_fields() -> None:
    w = merge_world()
    target, first, second = w["target"], w["first"], w["second"]

    contacts.contact_merge(actor=w["admin"], target=target, sources=[second, first])

    target.refresh_from_db()
    assert (target.email, target.phone, target.job_title, target.company_id) == (
        "ana@example.com",
        "+5511999998888",
        "CEO",
        w["company"].pk,
    )
    assert sorted(target.labels.values_list("name", flat=True)) == ["Hot", "VIP"]
    assert list(Deal.objects.order_by("pk").values_list("contact_id", "version")) == [
        (target.pk, 2),
        (target.pk, 2),
    ]
    assert Task.objects.get(pk=w["task"].pk).contact_id == target.pk
    assert Activity.objects.get(pk=w["note"].pk).contact_id == target.pk
    assert SupportContactLink.objects.get(pk=w["link"].pk).contact_id == target.pk
    assert BotConversaSubscriber.objects.get(pk=w["subscriber"].pk).contact_id == target.pk
    assert Lead.objects.get(pk=w["lead"].pk).converted_contact_id == target.pk
    assert list(Contact.objects.order_by("pk").values_list("pk", "merged_into_id")) == [
        (target.pk, None),
        (first.pk, target.pk),
        (second.pk, target.pk),
    ]
    assert first.labels.count() == 0
    assert activities(contact=target, kind=ActivityKind.MERGE) == [
        (
            ActivityKind.MERGE,
            w["admin"].pk,
            {
                "merged": [
                    {"id": first.pk, "name": "Ana S.", "email": "ana@example.com", "phone": ""},
                    {
                        "id": second.pk,
                        "name": "Ana Souza",
                        "email": "",
                        "phone": "+5511999998888",
                    },
                ],
                "filled": ["email", "phone", "job_title", "company_id"],
            },
        )
    ]
    # Merged contacts leave the duplicates (and every list).
    assert contacts.duplicates_of(organization_id=w["org"].pk, email="ana@example.com") == [target]


def test_a_failing_merge_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    w = merge_world()
    before = {
        model.__name__: rows(model)
        for model in (Contact, Deal, Task, Activity, SupportContactLink, BotConversaSubscriber)
    }

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(contacts, "activity_record", boom)
    with pytest.raises(RuntimeError):
        contacts.contact_merge(actor=w["admin"], target=w["target"], sources=[w["first"]])

    after = {
        model.__name__: rows(model)
        for model in (Contact, Deal, Task, Activity, SupportContactLink, BotConversaSubscriber)
    }
    assert after == before
    assert sorted(w["first"].labels.values_list("name", flat=True)) == ["Hot", "VIP"]


def test_only_admins_merge_contacts() -> None:
    w = merge_world()
    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_merge(actor=w["agent"], target=w["target"], sources=[w["first"]])
    assert error_code(excinfo) == (403, "crm.permission_denied")
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0


def test_a_merge_refuses_the_target_among_its_sources_and_merged_sources() -> None:
    w = merge_world()
    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_merge(actor=w["admin"], target=w["target"], sources=[w["target"]])
    assert error_code(excinfo) == (422, "crm.invalid_merge")

    contacts.contact_merge(actor=w["admin"], target=w["target"], sources=[w["first"]])
    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_merge(actor=w["admin"], target=w["second"], sources=[w["first"]])
    assert error_code(excinfo) == (404, "crm.not_found")
    assert Contact.objects.get(pk=w["first"].pk).merged_into_id == w["target"].pk


def test_a_merge_refuses_contacts_of_another_organization() -> None:
    w = merge_world()
    foreign = make.contact(w["other_org"], "Foreign")
    with pytest.raises(ApplicationError) as excinfo:
        contacts.contact_merge(actor=w["admin"], target=w["target"], sources=[foreign])
    assert error_code(excinfo) == (404, "crm.not_found")


# --- Leads -----------------------------------------------------------------------------------


def test_it_creates_updates_and_deletes_a_lead() -> None:
    team = make.team()
    lead = contacts.lead_create(
        actor=team["agent"],
        organization_id=team["org"].pk,
        name="Bruno",
        email="bruno@example.com",
        phone="21 98888-7777",
        company_name="Acme",
    )
    contacts.lead_update(actor=team["agent"], lead=lead, status=LeadStatus.QUALIFIED)

    lead.refresh_from_db()
    assert (lead.phone, lead.status, lead.created_by_id) == (
        "+5521988887777",
        LeadStatus.QUALIFIED,
        team["agent"].pk,
    )
    assert activities(lead=lead) == [
        (ActivityKind.CREATED, team["agent"].pk, {}),
        (
            ActivityKind.FIELD_CHANGE,
            team["agent"].pk,
            {"changes": {"status": ["new", "qualified"]}},
        ),
    ]
    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_update(actor=team["agent"], lead=lead, status=LeadStatus.CONVERTED)
    assert error_code(excinfo) == (422, "crm.invalid_status")
    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_delete(actor=team["agent"], lead=lead)
    assert error_code(excinfo) == (403, "crm.permission_denied")
    contacts.lead_delete(actor=team["admin"], lead=lead)
    assert rows(Lead) == []


def conversion_world() -> dict[str, Any]:
    team = make.team()
    org = team["org"]
    pipe = make.pipeline(org)
    label = Label.objects.create(organization=org, name="VIP")
    lead = Lead.objects.create(
        organization=org,
        name="Bruno Lima",
        email="Bruno@Example.com",
        phone="+5521988887777",
        company_name="Acme",
        source="fair",
        owner=team["agent"],
    )
    lead.labels.add(label)
    return {**team, "pipeline": pipe, "stages": make.stages(pipe), "lead": lead, "label": label}


def test_converting_a_lead_makes_a_contact_a_company_and_a_deal() -> None:
    w = conversion_world()
    lead = w["lead"]

    contact, deal = contacts.lead_convert(
        actor=w["agent"], lead=lead, pipeline_id=w["pipeline"].pk, value=150000
    )

    lead.refresh_from_db()
    company = Company.objects.get()
    assert (contact.name, contact.email, contact.phone, contact.source) == (
        "Bruno Lima",
        "Bruno@Example.com",
        "+5521988887777",
        "fair",
    )
    assert (contact.company_id, contact.owner_id, company.name) == (
        company.pk,
        w["agent"].pk,
        "Acme",
    )
    assert list(contact.labels.values_list("pk", flat=True)) == [w["label"].pk]
    assert (deal.title, deal.value, deal.stage_id, deal.contact_id, deal.company_id) == (
        "Bruno Lima",
        150000,
        w["stages"][0].pk,
        contact.pk,
        company.pk,
    )
    assert (deal.owner_id, list(deal.labels.values_list("pk", flat=True))) == (
        w["agent"].pk,
        [w["label"].pk],
    )
    assert (lead.status, lead.converted_contact_id, lead.converted_deal_id) == (
        LeadStatus.CONVERTED,
        contact.pk,
        deal.pk,
    )
    assert lead.converted_at is not None
    data = {"lead_id": lead.pk, "contact_id": contact.pk, "deal_id": deal.pk}
    assert activities(lead=lead) == [(ActivityKind.CONVERSION, w["agent"].pk, data)]
    assert activities(contact=contact) == [
        (ActivityKind.CREATED, w["agent"].pk, {}),
        (ActivityKind.CONVERSION, w["agent"].pk, data),
    ]
    assert activities(deal=deal) == [
        (ActivityKind.CONVERSION, w["agent"].pk, {"lead_id": lead.pk, "contact_id": contact.pk})
    ]


def test_converting_reuses_a_contact_with_the_same_email_and_fills_its_phone() -> None:
    w = conversion_world()
    existing = make.contact(w["org"], "Bruno", email="bruno@example.com")

    contact, deal = contacts.lead_convert(
        actor=w["agent"],
        lead=w["lead"],
        pipeline_id=w["pipeline"].pk,
        stage_id=w["stages"][1].pk,
        deal_title="Big sale",
    )

    existing.refresh_from_db()
    assert contact.pk == existing.pk
    assert (existing.name, existing.phone) == ("Bruno", "+5521988887777")
    assert Contact.objects.count() == 1
    assert (deal.title, deal.stage_id, deal.contact_id) == (
        "Big sale",
        w["stages"][1].pk,
        existing.pk,
    )


def test_converting_into_a_chosen_contact() -> None:
    w = conversion_world()
    make.contact(w["org"], "Twin", email="bruno@example.com")
    chosen = make.contact(w["org"], "Chosen")

    contact, deal = contacts.lead_convert(
        actor=w["agent"], lead=w["lead"], pipeline_id=w["pipeline"].pk, contact_id=chosen.pk
    )

    assert (contact.pk, deal.contact_id) == (chosen.pk, chosen.pk)


def test_a_second_conversion_is_refused_and_makes_nothing() -> None:
    w = conversion_world()
    contacts.lead_convert(actor=w["agent"], lead=w["lead"], pipeline_id=w["pipeline"].pk)
    before = (rows(Contact), rows(Deal), rows(Activity))

    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_convert(actor=w["agent"], lead=w["lead"], pipeline_id=w["pipeline"].pk)

    assert error_code(excinfo) == (409, "crm.lead_converted")
    assert (rows(Contact), rows(Deal), rows(Activity)) == before


def test_converting_into_a_pipeline_the_agent_does_not_see_is_not_found() -> None:
    w = conversion_world()
    hidden = make.pipeline(w["org"], "Secret", restricted=True)

    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_convert(actor=w["agent"], lead=w["lead"], pipeline_id=hidden.pk)
    assert error_code(excinfo) == (404, "crm.not_found")
    assert (rows(Contact), rows(Deal)) == ([], [])

    assign_perm("crm.use_pipeline", w["agent"], hidden)
    _contact, deal = contacts.lead_convert(actor=w["agent"], lead=w["lead"], pipeline_id=hidden.pk)
    assert deal.pipeline_id == hidden.pk


def test_a_failing_deal_leaves_the_lead_unconverted() -> None:
    w = conversion_world()

    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_convert(
            actor=w["agent"], lead=w["lead"], pipeline_id=w["pipeline"].pk, value="12,50"
        )

    assert error_code(excinfo) == (422, "crm.invalid_value")
    w["lead"].refresh_from_db()
    assert w["lead"].status == LeadStatus.NEW
    assert (rows(Contact), rows(Deal), rows(Company)) == ([], [], [])


def test_a_lead_merge_moves_tasks_timeline_and_labels() -> None:
    w = conversion_world()
    target = Lead.objects.create(organization=w["org"], name="Bruno")
    task = Task.objects.create(
        organization=w["org"],
        title="Call",
        due_at=timezone.now(),
        lead=w["lead"],
        assignee=w["agent"],
    )

    contacts.lead_merge(actor=w["admin"], target=target, sources=[w["lead"]])

    target.refresh_from_db()
    assert (target.email, target.phone, target.company_name, target.owner_id) == (
        "Bruno@Example.com",
        "+5521988887777",
        "Acme",
        w["agent"].pk,
    )
    assert list(target.labels.values_list("pk", flat=True)) == [w["label"].pk]
    assert Task.objects.get(pk=task.pk).lead_id == target.pk
    assert Lead.objects.get(pk=w["lead"].pk).merged_into_id == target.pk
    assert activities(lead=target) == [
        (
            ActivityKind.MERGE,
            w["admin"].pk,
            {
                "merged": [
                    {
                        "id": w["lead"].pk,
                        "name": "Bruno Lima",
                        "email": "Bruno@Example.com",
                        "phone": "+5521988887777",
                    }
                ],
                "filled": ["email", "phone", "company_name", "owner_id", "source"],
            },
        )
    ]


def test_a_converted_lead_cannot_be_merged_away() -> None:
    w = conversion_world()
    contacts.lead_convert(actor=w["agent"], lead=w["lead"], pipeline_id=w["pipeline"].pk)
    target = Lead.objects.create(organization=w["org"], name="Bruno")

    with pytest.raises(ApplicationError) as excinfo:
        contacts.lead_merge(actor=w["admin"], target=target, sources=[w["lead"]])
    assert error_code(excinfo) == (409, "crm.lead_converted")
    assert Lead.objects.get(pk=w["lead"].pk).merged_into_id is None


def test_a_merge_tells_open_boards_about_the_cards_it_moved(
    published: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    w = merge_world()
    deal_ids = sorted(Deal.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        contacts.contact_merge(actor=w["admin"], target=w["target"], sources=[w["first"]])

    updates = [
        (
            group,
            message["data"]["deal"]["id"],
            message["data"]["deal"]["contact"],
            message["data"]["deal"]["version"],
        )
        for group, message in published
        if message["event"] == "crm.deal.updated"
    ]
    moved = Deal.objects.get(contact=w["target"], version=2)
    assert updates == [
        (
            f"crm.pipeline.{moved.pipeline_id}",
            moved.pk,
            {"id": w["target"].pk, "name": w["target"].name},
            2,
        )
    ]
    assert moved.pk in deal_ids
