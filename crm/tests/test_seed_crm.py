"""The CRM's demo data: two pipelines, deals on the board, contacts linked to support."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from guardian.shortcuts import get_users_with_perms

from crm.models import (
    Activity,
    Company,
    Contact,
    CustomField,
    Deal,
    Label,
    Lead,
    LostReason,
    Pipeline,
    SupportContactLink,
    Task,
)
from queueing.models import Conversation

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Pipeline,
            Deal,
            Contact,
            Company,
            Lead,
            Task,
            Label,
            LostReason,
            CustomField,
            SupportContactLink,
            Activity,
        )
    }


def test_the_demo_has_a_pipeline_with_deals_in_every_stage_and_keys_in_order() -> None:
    output = seed()

    assert "CRM: http://localhost:8000/crm" in output
    pipeline = Pipeline.objects.get(name="Matrículas")
    columns = [
        (stage.name, stage.probability, stage.is_won, stage.is_lost, stage.deals.count())
        for stage in pipeline.stages.order_by("order")
    ]
    assert columns == [
        ("Novo contato", 10, False, False, 4),
        ("Qualificado", 25, False, False, 3),
        ("Proposta enviada", 50, False, False, 3),
        ("Negociação", 75, False, False, 2),
        ("Matriculado", 100, True, False, 2),
        ("Perdido", 0, False, True, 1),
    ]
    for stage in pipeline.stages.all():
        keys = list(stage.deals.order_by("id").values_list("position", flat=True))
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
    assert set(Deal.objects.filter(stage__is_won=True).values_list("status", flat=True)) == {"won"}
    assert set(Deal.objects.filter(stage__is_lost=True).values_list("status", flat=True)) == {
        "lost"
    }
    assert list(pipeline.custom_fields.values_list("key", "kind")) == [
        ("curso", "choice"),
        ("inicio", "date"),
    ]


def test_the_b2b_pipeline_is_restricted_to_the_agent_it_was_given_to() -> None:
    seed()

    b2b = Pipeline.objects.get(name="Parcerias B2B")
    assert b2b.restricted is True
    assert sorted(
        user.email for user in get_users_with_perms(b2b, only_with_perms_in=["use_pipeline"])
    ) == ["agent1@atende.test"]


def test_two_contacts_are_linked_to_their_support_conversations() -> None:
    seed()

    linked = sorted(
        (link.contact.name, link.support_contact.conversations.get().subject)
        for link in SupportContactLink.objects.select_related("contact", "support_contact")
    )
    assert linked == [("Mariana Lima", "Horário das aulas"), ("Pedro Santos", "Turma corporativa")]
    assert Conversation.objects.count() == 2
    assert Activity.objects.filter(kind="conversation", conversation__isnull=False).count() == 2


def test_seeding_twice_changes_nothing() -> None:
    seed()
    first = counts()

    seed()

    assert counts() == first
    assert first["Deal"] == 17
    assert first["Contact"] == 8
