"""The support inbox's demo data: departments, queues, agents, canned responses, the widget."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from queueing.models import (
    CannedResponse,
    Department,
    QueueMember,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    return {
        "departments": list(Department.objects.order_by("name").values_list("name", "is_active")),
        "queues": list(
            SupportQueue.objects.order_by("name").values_list(
                "department__name",
                "name",
                "routing_strategy",
                "time_zone",
                "first_response_minutes",
                "resolution_minutes",
            )
        ),
        "members": list(
            QueueMember.objects.order_by("queue__name", "user__email").values_list(
                "queue__name", "user__email", "is_supervisor"
            )
        ),
        "agents": list(
            SupportAgent.objects.order_by("user__email").values_list(
                "user__email", "capacity", "availability", "connected", "open_count"
            )
        ),
        "canned": list(CannedResponse.objects.order_by("shortcut").values_list("shortcut")),
        "widgets": list(SupportWidget.objects.values_list("allowed_origins", "enabled")),
    }


def test_seed_demo_sets_up_the_inbox_once() -> None:
    output = seed()
    first = snapshot()
    key = SupportWidget.objects.get().public_key
    seed()

    assert snapshot() == first
    assert first == {
        "departments": [("Financeiro", True), ("Suporte", True)],
        "queues": [
            ("Financeiro", "Cobranças", "manual", "America/Sao_Paulo", 60, 1440),
            ("Suporte", "Geral", "load_balance", "America/Sao_Paulo", 15, 240),
        ],
        "members": [
            ("Cobranças", "admin@atende.test", True),
            ("Cobranças", "agent1@atende.test", False),
            ("Cobranças", "agent2@atende.test", False),
            ("Geral", "admin@atende.test", True),
            ("Geral", "agent1@atende.test", False),
            ("Geral", "agent2@atende.test", False),
        ],
        "agents": [
            ("admin@atende.test", 5, "online", False, 0),
            ("agent1@atende.test", 5, "online", False, 0),
            ("agent2@atende.test", 5, "online", False, 0),
        ],
        "canned": [("obrigado",), ("ola",), ("prazo",), ("senha",)],
        "widgets": [(["http://localhost:8000", "http://127.0.0.1:8000"], True)],
    }
    assert SupportWidget.objects.get().public_key == key
    assert (
        "Support widget demo page: http://localhost:8000/widget/demo/ "
        f"(public key {key}; agents answer at /inbox)"
    ) in output
