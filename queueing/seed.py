"""Demo data of the support inbox, for ``manage.py seed_demo``.

Two departments: "Suporte" (queue "Geral": load balance, always open, with SLA targets) and
"Financeiro" (queue "Cobranças": agents pull, Monday to Friday 9:00-18:00 in São Paulo, with
the year's national holidays). Bruno and Carla serve both; Ana (org admin) supervises. Canned
responses, and the widget, whose demo page (``/widget/demo/``) is allowed on the local server.

Rows are found by their natural keys, so a second run changes nothing.
"""

from __future__ import annotations

from accounts.models import Membership, Organization
from queueing.models import (
    AgentAvailability,
    CannedResponse,
    Department,
    QueueMember,
    RoutingStrategy,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)

DEMO_WIDGET_ORIGINS = [
    "http://localhost:8000",
    "http://127.0.0.1:8000",
]

WEEKDAYS_9_TO_18 = [{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)]
HOLIDAYS = [
    "2026-12-25",
    "2027-01-01",
    "2027-02-08",
    "2027-02-09",
    "2027-03-26",
    "2027-04-21",
    "2027-05-01",
]

# (department, description, queue, strategy, weekly hours, holidays, first response min,
# resolution min)
DEMO_QUEUES = [
    (
        "Suporte",
        "Dúvidas sobre cursos, acesso e plataforma",
        "Geral",
        RoutingStrategy.LOAD_BALANCE,
        [],
        [],
        15,
        240,
    ),
    (
        "Financeiro",
        "Boletos, cobranças e reembolsos",
        "Cobranças",
        RoutingStrategy.MANUAL,
        WEEKDAYS_9_TO_18,
        HOLIDAYS,
        60,
        1440,
    ),
]

DEMO_CANNED = [
    ("ola", "Saudação", "Olá! Sou da equipe da Escola Atende Demo. Como posso ajudar?"),
    ("obrigado", "Agradecimento", "Obrigado pelo contato! Qualquer dúvida, estamos por aqui."),
    (
        "prazo",
        "Prazo de resposta",
        "Vou verificar com a equipe responsável e retorno em até 1 dia útil.",
    ),
    (
        "senha",
        "Redefinir senha",
        "Para redefinir sua senha, acesse a página de login e clique em “Esqueci minha senha”.",
    ),
]


def seed_inbox_demo(*, organization: Organization) -> SupportWidget:
    people = {
        membership.user.email: membership
        for membership in Membership.objects.filter(organization=organization).select_related(
            "user"
        )
    }
    staff = [
        people[email] for email in ("admin@atende.test", "agent1@atende.test", "agent2@atende.test")
    ]
    for membership in staff:
        SupportAgent.objects.get_or_create(
            organization=organization,
            user=membership.user,
            defaults={"availability": AgentAvailability.ONLINE},
        )
    for (
        department_name,
        description,
        queue_name,
        strategy,
        hours,
        holidays,
        first_response,
        resolution,
    ) in DEMO_QUEUES:
        department, _ = Department.objects.get_or_create(
            organization=organization,
            name=department_name,
            defaults={"description": description},
        )
        queue, _ = SupportQueue.objects.get_or_create(
            organization=organization,
            department=department,
            name=queue_name,
            defaults={
                "routing_strategy": strategy,
                "time_zone": "America/Sao_Paulo",
                "weekly_hours": hours,
                "holidays": holidays,
                "first_response_minutes": first_response,
                "resolution_minutes": resolution,
            },
        )
        for membership in staff:
            QueueMember.objects.get_or_create(
                queue=queue,
                user=membership.user,
                defaults={"is_supervisor": membership.user.email == "admin@atende.test"},
            )
    admin = people["admin@atende.test"].user
    for shortcut, title, body in DEMO_CANNED:
        CannedResponse.objects.get_or_create(
            organization=organization,
            shortcut=shortcut,
            defaults={"title": title, "body": body, "created_by": admin},
        )
    widget, _ = SupportWidget.objects.get_or_create(
        organization=organization,
        defaults={
            "allowed_origins": DEMO_WIDGET_ORIGINS,
            "title": "Fale com a Escola Atende Demo",
            "greeting": "Oi! Mande sua dúvida que nossa equipe responde por aqui.",
        },
    )
    return widget
