"""The filters shared by lists, boards, saved views and exports."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import timezone, translation

from core.exceptions import ApplicationError
from crm.filtering import apply_filters, clean_filters, filters_from_query
from crm.models import Company, Contact, CustomField, Deal, Label, Lead, LeadStatus, Task
from crm.tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def titles(queryset: Any) -> list[str]:
    return sorted(deal.title for deal in queryset)


def refused(entity: str, raw: Any) -> dict[str, Any]:
    with pytest.raises(ApplicationError) as excinfo:
        clean_filters(entity, raw)
    assert (excinfo.value.status_code, excinfo.value.code) == (422, "crm.invalid_filter")
    return excinfo.value.extra


def test_it_normalizes_a_query_string() -> None:
    query = QueryDict(
        "owner=me&label=3&label=4,5&value_min=10000&q=%20acme%20&page=2&cursor=x"
        "&status=open&created_from=2025-01-02&cf.size__min=10&stage="
    )

    assert filters_from_query("deals", query) == {
        "owner": "me",
        "label": [3, 4, 5],
        "value_min": 10000,
        "q": "acme",
        "status": "open",
        "created_from": "2025-01-02",
        "cf.size__min": "10",
    }


def test_it_resolves_me_when_the_user_is_given() -> None:
    team = make.team()

    assert filters_from_query("tasks", QueryDict("assignee=me&done=0"), user=team["agent"]) == {
        "assignee": team["agent"].pk,
        "done": False,
    }


@pytest.mark.parametrize(
    ("entity", "raw", "field"),
    [
        ("deals", {"colour": "red"}, "colour"),
        ("deals", {"value_min": "12.5"}, "value_min"),
        ("deals", {"value_min": -1}, "value_min"),
        ("deals", {"value_max": True}, "value_max"),
        ("deals", {"status": "maybe"}, "status"),
        ("deals", {"created_from": "02/01/2025"}, "created_from"),
        ("deals", {"pipeline": "abc"}, "pipeline"),
        ("deals", {"owner": "you"}, "owner"),
        ("deals", {"label": ["x"]}, "label"),
        ("deals", {"stage": [1, 2]}, "stage"),
        ("deals", {"cf.size__min": "big"}, "cf.size__min"),
        ("deals", {"cf.bad key": "1"}, "cf.bad key"),
        ("contacts", {"status": "new"}, "status"),
        ("contacts", {"cf.size": "1"}, "cf.size"),
        ("leads", {"status": "sleeping"}, "status"),
        ("tasks", {"done": "perhaps"}, "done"),
        ("tasks", {"due_from": "tomorrow"}, "due_from"),
        ("tasks", {"pipeline": 1}, "pipeline"),
        ("deals", ["not", "a", "dict"], "filters"),
        ("people", {}, "entity"),
    ],
)
def test_it_refuses_bad_filters(entity: str, raw: Any, field: str) -> None:
    assert refused(entity, raw) == {"field": field}


def test_it_filters_deals_by_pipeline_stage_owner_status_and_value() -> None:
    team = make.team()
    org, agent, admin = team["org"], team["agent"], team["admin"]
    sales = make.pipeline(org)
    other = make.pipeline(org, "Partners")
    new, qualified = make.stages(sales)[:2]
    make.deals(new, 1, title="Small", value=1000, owner=agent)
    make.deals(new, 1, title="Big", value=500000, owner=admin)
    make.deals(qualified, 1, title="Won", value=20000, owner=agent, status="won")
    make.deals(make.stages(other)[0], 1, title="Partner", value=3000, owner=agent)
    deals = Deal.objects.all()

    def found(**filters: Any) -> list[str]:
        cleaned = clean_filters("deals", filters)
        return titles(apply_filters("deals", deals, cleaned, organization_id=org.pk, user=agent))

    assert found(pipeline=sales.pk) == ["Big 1", "Small 1", "Won 1"]
    assert found(stage=new.pk) == ["Big 1", "Small 1"]
    assert found(owner="me") == ["Partner 1", "Small 1", "Won 1"]
    assert found(owner=admin.pk) == ["Big 1"]
    assert found(status="won") == ["Won 1"]
    assert found(value_min=3000, value_max=20000) == ["Partner 1", "Won 1"]
    assert found(q="par") == ["Partner 1"]


def test_it_filters_deals_by_contact_name_labels_and_dates_without_repeating_rows() -> None:
    org = make.organization()
    stage = make.stages(make.pipeline(org))[0]
    ana = make.contact(org, "Ana Souza")
    hot = Label.objects.create(organization=org, name="hot")
    cold = Label.objects.create(organization=org, name="cold")
    first, second, third = make.deals(stage, 3)
    first.contact = ana
    first.expected_close_date = datetime.date(2025, 3, 10)
    first.save()
    first.labels.set([hot, cold])
    second.labels.set([cold])
    third.expected_close_date = datetime.date(2025, 4, 1)
    third.save()
    Deal.objects.filter(pk=third.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))
    today = timezone.localdate().isoformat()

    def found(**filters: Any) -> list[str]:
        return titles(
            apply_filters(
                "deals", Deal.objects.all(), clean_filters("deals", filters), organization_id=org.pk
            )
        )

    assert found(q="souza") == ["Deal 1"]
    assert found(label=[hot.pk, cold.pk]) == ["Deal 1", "Deal 2"]
    assert found(close_from="2025-03-10", close_to="2025-03-31") == ["Deal 1"]
    assert found(created_from=today) == ["Deal 1", "Deal 2"]
    assert found(created_to=today) == ["Deal 1", "Deal 2", "Deal 3"]


def test_it_filters_deals_by_custom_fields_of_each_kind() -> None:
    org = make.organization()
    pipe = make.pipeline(org)
    stage = make.stages(pipe)[0]
    CustomField.objects.create(pipeline=pipe, key="seats", label="Seats", kind="number")
    CustomField.objects.create(pipeline=pipe, key="renewal", label="Renewal", kind="date")
    CustomField.objects.create(
        pipeline=pipe, key="plan", label="Plan", kind="choice", choices=["basic", "pro"]
    )
    small, large, _empty = make.deals(stage, 3)
    small.custom_fields = {"seats": 5, "renewal": "2025-01-15", "plan": "basic"}
    small.save()
    large.custom_fields = {"seats": 120.5, "renewal": "2025-06-01", "plan": "pro"}
    large.save()

    def found(**filters: Any) -> list[str]:
        cleaned = clean_filters("deals", filters)
        return titles(apply_filters("deals", Deal.objects.all(), cleaned, organization_id=org.pk))

    assert found(**{"cf.seats__min": "10"}) == ["Deal 2"]
    assert found(**{"cf.seats__max": 5}) == ["Deal 1"]
    assert found(**{"cf.seats": "5"}) == ["Deal 1"]
    assert found(**{"cf.renewal__min": "2025-02-01"}) == ["Deal 2"]
    assert found(**{"cf.renewal__max": "2025-02-01"}) == ["Deal 1"]
    assert found(**{"cf.plan": "pro"}) == ["Deal 2"]
    assert found(**{"cf.plan": "pro", "pipeline": pipe.pk}) == ["Deal 2"]
    # A key no pipeline of the organization defines, or a number field given a word.
    assert found(**{"cf.unknown": "x"}) == []
    assert found(**{"cf.seats": "many"}) == []


def test_me_without_a_user_is_refused_when_applied() -> None:
    org = make.organization()

    with pytest.raises(ApplicationError) as excinfo:
        apply_filters("deals", Deal.objects.all(), {"owner": "me"}, organization_id=org.pk)

    assert excinfo.value.extra == {"field": "owner"}


def test_it_keeps_to_the_organization() -> None:
    org, other = make.organization(), make.organization()
    make.contact(org, "Mine")
    make.contact(other, "Theirs")

    found = apply_filters("contacts", Contact.objects.all(), {}, organization_id=org.pk)

    assert [contact.name for contact in found] == ["Mine"]


def test_it_filters_contacts_companies_and_leads() -> None:
    team = make.team()
    org, agent = team["org"], team["agent"]
    vip = Label.objects.create(organization=org, name="vip")
    ana = make.contact(org, "Ana", email="ana@acme.com", source="site", owner=agent)
    ana.labels.set([vip])
    make.contact(org, "Bruno", phone="+5511999998888", source="Fair")
    Company.objects.create(organization=org, name="Acme", domain="acme.com", owner=agent)
    Company.objects.create(organization=org, name="Globex")
    Lead.objects.create(organization=org, name="Carla", status=LeadStatus.QUALIFIED)
    Lead.objects.create(organization=org, name="Dani", company_name="Initech")

    def names(entity: str, model: Any, **filters: Any) -> list[str]:
        cleaned = clean_filters(entity, filters)
        found = apply_filters(
            entity, model.objects.all(), cleaned, organization_id=org.pk, user=agent
        )
        return sorted(record.name for record in found)

    assert names("contacts", Contact, q="acme") == ["Ana"]
    assert names("contacts", Contact, q="99999") == ["Bruno"]
    assert names("contacts", Contact, source="fair") == ["Bruno"]
    assert names("contacts", Contact, label=[vip.pk]) == ["Ana"]
    assert names("contacts", Contact, owner="me") == ["Ana"]
    assert names("companies", Company, q="acme.com") == ["Acme"]
    assert names("companies", Company, owner=agent.pk) == ["Acme"]
    assert names("leads", Lead, status="qualified") == ["Carla"]
    assert names("leads", Lead, q="initech") == ["Dani"]


def test_it_filters_tasks() -> None:
    team = make.team()
    org, agent, admin = team["org"], team["agent"], team["admin"]
    ana = make.contact(org)
    now = timezone.now()

    def task(title: str, **fields: Any) -> Task:
        return Task.objects.create(organization=org, contact=ana, title=title, **fields)

    task("late", assignee=agent, due_at=now - datetime.timedelta(hours=1))
    task("done", assignee=agent, due_at=now - datetime.timedelta(hours=2), done_at=now)
    task("later", assignee=admin, due_at=now + datetime.timedelta(days=3))

    def found(**filters: Any) -> list[str]:
        cleaned = clean_filters("tasks", filters)
        tasks = apply_filters(
            "tasks", Task.objects.all(), cleaned, organization_id=org.pk, user=agent
        )
        return sorted(item.title for item in tasks)

    assert found(assignee="me") == ["done", "late"]
    assert found(done=True) == ["done"]
    assert found(done="0") == ["late", "later"]
    assert found(overdue=True) == ["late"]
    assert found(overdue=False) == ["done", "later"]
    assert found(due_from=(now + datetime.timedelta(days=1)).isoformat()) == ["later"]
    assert found(due_to=(now - datetime.timedelta(minutes=90)).isoformat()) == ["done"]
    assert found(contact=ana.pk, q="LAT") == ["late", "later"]
