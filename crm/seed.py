"""Demo data of the CRM, for ``manage.py seed_demo``.

The demo school sells courses: the pipeline "Matrículas" (enrolments) has six stages and
two dozen deals spread across them, with contacts, companies, labels, custom fields
("Curso", "Início da turma"), lost reasons, open leads and tasks (one falls due a few minutes
after seeding, to show the reminder). "Parcerias B2B" is restricted to Ana (admin) and Bruno.
Two students have written to support: their conversations are in the inbox and their CRM
contacts show them.

Rows are found by their natural keys, so a second run changes nothing. Deals are written
directly (the first run only), with keys from the same fractional index the services use.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from fractional_indexing import generate_n_keys_between
from guardian.shortcuts import assign_perm

from accounts.models import Organization, User
from crm.models import (
    ActivityKind,
    Company,
    Contact,
    CustomField,
    CustomFieldKind,
    Deal,
    DealStatus,
    Label,
    Lead,
    LostReason,
    Pipeline,
    Stage,
    SupportContactLink,
    Task,
)
from crm.timeline import activity_record

# (name, colour, probability, is_won, is_lost, rotting days)
DEMO_STAGES = [
    ("Novo contato", "#64748b", 10, False, False, 7),
    ("Qualificado", "#3b82f6", 25, False, False, 7),
    ("Proposta enviada", "#8b5cf6", 50, False, False, 10),
    ("Negociação", "#f59e0b", 75, False, False, 5),
    ("Matriculado", "#16a34a", 100, True, False, None),
    ("Perdido", "#dc2626", 0, False, True, None),
]
B2B_STAGES = [
    ("Prospecção", "#64748b", 10, False, False, 14),
    ("Reunião", "#3b82f6", 30, False, False, 14),
    ("Contrato", "#f59e0b", 70, False, False, 10),
    ("Fechado", "#16a34a", 100, True, False, None),
    ("Perdido", "#dc2626", 0, False, True, None),
]
DEMO_LABELS = [("Quente", "#dc2626"), ("Bolsa", "#0ea5e9"), ("Indicação", "#16a34a")]
DEMO_LOST_REASONS = ["Preço", "Escolheu um concorrente", "Sem resposta", "Adiou a decisão"]
DEMO_COURSES = ["Inglês", "Programação", "Design", "Marketing digital"]
DEMO_COMPANIES = [
    ("Padaria Pão Quente", "paoquente.com.br"),
    ("Clínica Bem Estar", "bemestar.med.br"),
    ("Tech Sul Sistemas", "techsul.com.br"),
]
# (name, email, phone, company index or None)
DEMO_CONTACTS = [
    ("Mariana Lima", "mariana.lima@example.com", "+5511987650001", None),
    ("Rafael Costa", "rafael.costa@example.com", "+5511987650002", 0),
    ("Juliana Alves", "juliana.alves@example.com", "+5521987650003", None),
    ("Pedro Santos", "pedro.santos@example.com", "+5531987650004", 1),
    ("Camila Rocha", "camila.rocha@example.com", "+5511987650005", None),
    ("Lucas Pereira", "lucas.pereira@example.com", "+5541987650006", 2),
    ("Beatriz Gomes", "beatriz.gomes@example.com", "+5511987650007", None),
    ("Thiago Ribeiro", "thiago.ribeiro@example.com", "+5551987650008", None),
]
# (stage index, title, value in reais, contact index, owner email, labels, course)
DEMO_DEALS = [
    (0, "Inglês intensivo — Mariana", 1890, 0, "agent1@atende.test", ["Quente"], "Inglês"),
    (0, "Programação web — Thiago", 2490, 7, "agent2@atende.test", [], "Programação"),
    (0, "Design gráfico — Beatriz", 1590, 6, "agent1@atende.test", ["Bolsa"], "Design"),
    (0, "Marketing para a padaria", 3200, 1, "agent2@atende.test", [], "Marketing digital"),
    (1, "Inglês para viagem — Juliana", 1290, 2, "agent1@atende.test", [], "Inglês"),
    (1, "Programação Python — Lucas", 2790, 5, "agent2@atende.test", ["Indicação"], "Programação"),
    (1, "Design UX — Camila", 2190, 4, "agent1@atende.test", ["Quente"], "Design"),
    (2, "Turma corporativa de inglês — Clínica", 9800, 3, "admin@atende.test", [], "Inglês"),
    (
        2,
        "Marketing digital — Rafael",
        1990,
        1,
        "agent2@atende.test",
        ["Bolsa"],
        "Marketing digital",
    ),
    (2, "Programação mobile — Mariana", 2990, 0, "agent1@atende.test", [], "Programação"),
    (3, "Inglês avançado — Pedro", 2290, 3, "agent2@atende.test", ["Quente"], "Inglês"),
    (3, "Design de interfaces — Thiago", 1790, 7, "agent1@atende.test", [], "Design"),
    (4, "Programação web — Camila", 2490, 4, "agent1@atende.test", [], "Programação"),
    (4, "Inglês básico — Beatriz", 990, 6, "agent2@atende.test", ["Bolsa"], "Inglês"),
    (5, "Marketing digital — Lucas", 1990, 5, "agent2@atende.test", [], "Marketing digital"),
]
# (name, email, phone, source)
DEMO_LEADS = [
    ("Fernanda Dias", "fernanda.dias@example.com", "+5511987651001", "Instagram"),
    ("Gustavo Martins", "gustavo.martins@example.com", "+5511987651002", "Site"),
    ("Larissa Freitas", "larissa.freitas@example.com", "+5521987651003", "Indicação"),
    ("Diego Barbosa", "", "+5511987651004", "WhatsApp"),
]
# The two students who wrote to support: (contact index, subject, first message).
DEMO_CONVERSATIONS = [
    (0, "Horário das aulas", "Oi! As aulas de inglês intensivo são de manhã ou à noite?"),
    (3, "Turma corporativa", "Bom dia, podemos fechar a turma da clínica para março?"),
]


def _members(emails: list[str]) -> dict[str, User]:
    return {user.email: user for user in User.objects.filter(email__in=emails)}


def _stages(pipeline: Pipeline, specs: list[tuple]) -> list[Stage]:
    return [
        Stage.objects.create(
            pipeline=pipeline,
            name=name,
            color=color,
            probability=probability,
            is_won=is_won,
            is_lost=is_lost,
            rotting_days=rotting,
            order=order,
        )
        for order, (name, color, probability, is_won, is_lost, rotting) in enumerate(specs)
    ]


@transaction.atomic
def seed_crm_demo(*, organization: Organization) -> Pipeline:
    """Create the demo CRM once; return the main pipeline."""
    existing = Pipeline.objects.filter(organization=organization, name="Matrículas").first()
    if existing is not None:
        return existing
    people = _members(
        ["admin@atende.test", "agent1@atende.test", "agent2@atende.test", "viewer@atende.test"]
    )
    admin = people["admin@atende.test"]
    labels = {
        name: Label.objects.get_or_create(
            organization=organization, name=name, defaults={"color": color}
        )[0]
        for name, color in DEMO_LABELS
    }
    for order, name in enumerate(DEMO_LOST_REASONS):
        LostReason.objects.get_or_create(
            organization=organization, name=name, defaults={"order": order}
        )
    companies = [
        Company.objects.create(
            organization=organization, name=name, domain=domain, owner=admin, source="Demo"
        )
        for name, domain in DEMO_COMPANIES
    ]
    contacts = [
        Contact.objects.create(
            organization=organization,
            name=name,
            email=email,
            phone=phone,
            company=companies[company] if company is not None else None,
            owner=people["agent1@atende.test"],
            source="Demo",
            created_by=admin,
        )
        for name, email, phone, company in DEMO_CONTACTS
    ]

    pipeline = Pipeline.objects.create(organization=organization, name="Matrículas", order=0)
    stages = _stages(pipeline, DEMO_STAGES)
    CustomField.objects.create(
        pipeline=pipeline,
        key="curso",
        label="Curso",
        kind=CustomFieldKind.CHOICE,
        choices=DEMO_COURSES,
        order=0,
    )
    CustomField.objects.create(
        pipeline=pipeline, key="inicio", label="Início da turma", kind=CustomFieldKind.DATE, order=1
    )
    now = timezone.now()
    start = (now + datetime.timedelta(days=30)).date()
    by_stage: dict[int, list[tuple]] = {}
    for spec in DEMO_DEALS:
        by_stage.setdefault(spec[0], []).append(spec)
    deals: list[Deal] = []
    for stage_index, specs in sorted(by_stage.items()):
        stage = stages[stage_index]
        keys = generate_n_keys_between(None, None, len(specs))
        for key, (_, title, reais, contact_index, owner, label_names, course) in zip(
            keys, specs, strict=True
        ):
            contact = contacts[contact_index]
            status = (
                DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else "open"
            )
            deal = Deal.objects.create(
                organization=organization,
                pipeline=pipeline,
                stage=stage,
                position=key,
                title=title,
                value=reais * 100,
                currency=pipeline.currency,
                contact=contact,
                company=contact.company,
                owner=people[owner],
                expected_close_date=(now + datetime.timedelta(days=7 * (stage_index + 1))).date(),
                custom_fields={"curso": course, "inicio": start.isoformat()},
                status=status,
                lost_reason=(
                    LostReason.objects.get(organization=organization, name="Preço")
                    if stage.is_lost
                    else None
                ),
                closed_at=now if status != "open" else None,
                created_by=admin,
            )
            deal.labels.set([labels[name] for name in label_names])
            activity_record(
                organization_id=organization.pk,
                kind=ActivityKind.CREATED,
                actor_id=admin.pk,
                deal_id=deal.pk,
                contact_id=contact.pk,
                data={"stage": {"id": stage.pk, "name": stage.name}},
            )
            deals.append(deal)

    b2b = Pipeline.objects.create(
        organization=organization, name="Parcerias B2B", order=1, restricted=True
    )
    b2b_stages = _stages(b2b, B2B_STAGES)
    assign_perm("crm.use_pipeline", people["agent1@atende.test"], b2b)
    for key, (title, reais, company) in zip(
        generate_n_keys_between(None, None, 2),
        [("Plano de capacitação Tech Sul", 48000, 2), ("Cursos para a Padaria", 12000, 0)],
        strict=True,
    ):
        Deal.objects.create(
            organization=organization,
            pipeline=b2b,
            stage=b2b_stages[1],
            position=key,
            title=title,
            value=reais * 100,
            company=companies[company],
            owner=admin,
            created_by=admin,
        )

    for name, email, phone, source in DEMO_LEADS:
        Lead.objects.create(
            organization=organization,
            name=name,
            email=email,
            phone=phone,
            source=source,
            owner=people["agent2@atende.test"],
            created_by=admin,
        )
    Task.objects.create(
        organization=organization,
        title="Ligar para a Mariana sobre o horário",
        deal=deals[0],
        contact=contacts[0],
        assignee=people["agent1@atende.test"],
        created_by=admin,
        due_at=now + datetime.timedelta(minutes=5),
    )
    Task.objects.create(
        organization=organization,
        title="Enviar proposta revisada à clínica",
        deal=deals[7],
        assignee=admin,
        created_by=admin,
        due_at=now + datetime.timedelta(days=1),
    )
    Task.objects.create(
        organization=organization,
        title="Confirmar matrícula do Lucas",
        contact=contacts[5],
        assignee=people["agent2@atende.test"],
        created_by=admin,
        due_at=now - datetime.timedelta(hours=2),
        reminded_at=now - datetime.timedelta(hours=2),
    )
    _seed_conversations(organization, contacts)
    return pipeline


def _seed_conversations(organization: Organization, contacts: list[Contact]) -> None:
    """Two students' support conversations, linked to their CRM contacts."""
    from queueing.inbox import conversation_start
    from queueing.models import Contact as SupportContact
    from queueing.models import ConversationChannel, SupportQueue

    if not SupportQueue.objects.filter(organization=organization).exists():
        return
    for contact_index, subject, body in DEMO_CONVERSATIONS:
        contact = contacts[contact_index]
        support_contact = SupportContact.objects.create(
            organization=organization, name=contact.name, email=contact.email
        )
        SupportContactLink.objects.get_or_create(
            support_contact=support_contact, defaults={"contact": contact}
        )
        conversation, _ = conversation_start(
            contact=support_contact,
            channel=ConversationChannel.WIDGET,
            department_id=None,
            body=body,
            subject=subject,
        )
        activity_record(
            organization_id=organization.pk,
            kind=ActivityKind.CONVERSATION,
            actor_id=None,
            contact_id=contact.pk,
            conversation_id=conversation.pk,
            body=subject,
        )
