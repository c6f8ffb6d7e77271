"""Demo data of calls, for ``manage.py seed_demo``: specialties, profiles, a few past calls.

Safe to run again: specialties and people are looked up before being created, profiles are
only created once, and the demo calls (real ended calls, charged through the ledger with fixed
idempotency keys and rated through ``call_rate``) are made only for a professional who has
none yet.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AccountType, User
from calls import catalog, ratings
from calls.models import Call, CallStatus, ProfessionalProfile, Specialty

DEMO_SPECIALTIES = [
    ("psicologia", "Psicologia"),
    ("direito", "Direito"),
    ("nutricao", "Nutrição"),
    ("financas", "Finanças"),
    ("carreira", "Carreira"),
    ("idiomas", "Idiomas"),
    ("tecnologia", "Tecnologia"),
    ("saude", "Saúde"),
]

WEEKDAYS_MORNING_AND_AFTERNOON = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("09:00", "12:00"), ("14:00", "18:00"))
]

# (email, name, headline, bio, price, specialties, languages, availability, ratings given)
DEMO_PROFESSIONALS: list[tuple[str, str, str, str, int, list[str], list[str], Any, list[int]]] = [
    (
        "pro2@atende.test",
        "Dr. Rafael Lima",
        "Advogado trabalhista e do consumidor",
        "Quinze anos de advocacia. Explico seus direitos em linguagem simples.",
        4,
        ["direito"],
        ["pt-BR"],
        [{"weekday": day, "start": "10:00", "end": "19:00"} for day in range(5)],
        [5, 5, 4],
    ),
    (
        "pro3@atende.test",
        "Marina Costa",
        "Nutricionista esportiva",
        "Planos alimentares para quem treina, sem dietas milagrosas.",
        3,
        ["nutricao", "saude"],
        ["pt-BR", "es"],
        [{"weekday": day, "start": "07:00", "end": "11:00"} for day in range(6)],
        [5, 4],
    ),
    (
        "pro4@atende.test",
        "Paulo Andrade",
        "Planejador financeiro (CFP)",
        "Organize dívidas, reserva de emergência e investimentos.",
        6,
        ["financas", "carreira"],
        ["pt-BR", "en"],
        [{"weekday": day, "start": "18:00", "end": "22:00"} for day in range(5)],
        [4, 3, 5, 4],
    ),
    (
        "pro5@atende.test",
        "Julia Fernandes",
        "Professora de inglês e espanhol",
        "Conversação, entrevistas de emprego e viagens.",
        1,
        ["idiomas", "carreira"],
        ["pt-BR", "en", "es"],
        [{"weekday": 5, "start": "08:00", "end": "13:00"}],
        [],
    ),
]

DEMO_REVIEWER = ("cliente2@atende.test", "Lucas Avaliador")
DEMO_REVIEW_COMMENTS = ["Muito atencioso, recomendo.", "Ajudou bastante.", "", "Boa conversa."]


def _demo_password() -> str:
    from accounts.management.commands.seed_demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _verified_user(*, email: str, name: str, account_type: str, phone: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    from accounts import services

    user = services.user_create(email=email, password=_demo_password(), display_name=name)
    now = timezone.now()
    user.phone = phone
    user.email_verified_at = user.phone_verified_at = now
    user.account_type = account_type
    user.save(update_fields=["phone", "email_verified_at", "phone_verified_at", "account_type"])
    return user


def _ensure_profile(user: User, data: dict[str, Any]) -> None:
    if not ProfessionalProfile.objects.filter(user=user).exists():
        catalog.professional_profile_update(user=user, data=data)


def _demo_calls(*, reviewer: User, professional: User, stars: list[int]) -> None:
    """Past calls with ``professional``, charged through the ledger and rated."""
    from wallet import ledger
    from wallet.models import AccountKind, TransferKind

    if not stars or Call.objects.filter(professional=professional).exists():
        return
    profile = ProfessionalProfile.objects.get(user=professional)
    unit = settings.CALLS_BILLING_UNIT_SECONDS
    for index, given in enumerate(stars, start=1):
        minutes = 3 + index * 2
        amount = max(settings.CALLS_MINIMUM_FEE, minutes * profile.price_per_minute)
        ended_at = timezone.now() - datetime.timedelta(days=index * 3)
        connected_at = ended_at - datetime.timedelta(minutes=minutes)
        ledger.ledger_transfer(
            debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
            credit=ledger.account_for_user(user=reviewer, kind=AccountKind.CLIENT_WALLET),
            amount=amount,
            kind=TransferKind.TOP_UP,
            idempotency_key=f"seed:calls:{professional.email}:{index}:top-up",
            reference="seed:calls",
        )
        call = Call.objects.create(
            client=reviewer,
            professional=professional,
            status=CallStatus.ENDED,
            end_reason="client_hung_up",
            price_per_minute=profile.price_per_minute,
            minimum_fee=settings.CALLS_MINIMUM_FEE,
            billing_unit_seconds=unit,
            requested_at=connected_at - datetime.timedelta(seconds=20),
            ringing_at=connected_at - datetime.timedelta(seconds=20),
            answered_at=connected_at - datetime.timedelta(seconds=10),
            connected_at=connected_at,
            ended_at=ended_at,
            billed_units=max(1, minutes * 60 // unit),
            billed_amount=amount,
            connected_seconds=minutes * 60,
        )
        ledger.ledger_charge(
            client=reviewer,
            professional=professional,
            amount=amount,
            reference=call.reference,
            idempotency_key=f"seed:calls:{professional.email}:{index}:charge",
            metadata={"call_id": call.pk},
        )
        ratings.call_rate(
            call_id=call.pk,
            user=reviewer,
            stars=given,
            comment=DEMO_REVIEW_COMMENTS[(index - 1) % len(DEMO_REVIEW_COMMENTS)],
        )
    ProfessionalProfile.objects.filter(pk=profile.pk).update(
        calls_completed=len(stars), average_call_seconds=(5 + len(stars)) * 60
    )


@transaction.atomic
def seed_calls_demo(*, professional: User) -> None:
    """Specialties, the demo professional's profile, and four more professionals.

    The demo professional's "taking calls" switch is left as it is (off on a fresh seed):
    they turn it on from their dashboard, as a real professional would.
    """
    for slug, name in DEMO_SPECIALTIES:
        Specialty.objects.get_or_create(slug=slug, defaults={"name": name})
    _ensure_profile(
        professional,
        {
            "headline": "Psicóloga clínica, terapia cognitivo-comportamental",
            "bio": (
                "Atendo adultos com ansiedade, estresse no trabalho e transições de carreira. "
                "A primeira conversa serve para nos conhecermos."
            ),
            "price_per_minute": 2,
            "specialties": ["psicologia", "carreira"],
            "languages": ["pt-BR", "en"],
            "availability": WEEKDAYS_MORNING_AND_AFTERNOON,
        },
    )
    reviewer = _verified_user(
        email=DEMO_REVIEWER[0],
        name=DEMO_REVIEWER[1],
        account_type=AccountType.CLIENT,
        phone="+5511988880001",
    )
    for index, (email, name, headline, bio, price, specs, langs, slots, stars) in enumerate(
        DEMO_PROFESSIONALS, start=2
    ):
        user = _verified_user(
            email=email,
            name=name,
            account_type=AccountType.PROFESSIONAL,
            phone=f"+55119888800{index:02d}",
        )
        _ensure_profile(
            user,
            {
                "headline": headline,
                "bio": bio,
                "price_per_minute": price,
                "specialties": specs,
                "languages": langs,
                "availability": slots,
            },
        )
        _demo_calls(reviewer=reviewer, professional=user, stars=stars)
