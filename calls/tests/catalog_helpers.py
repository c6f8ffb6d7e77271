"""Rows for the catalog, rating and history tests, written directly (no lifecycle services).

A call here is a row in the status the test needs; money still moves only through the ledger
(``wallet.ledger.ledger_charge`` with the call's reference), as billing would move it.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import AccountType, User
from calls.models import (
    Call,
    CallStatus,
    ProfessionalLanguage,
    ProfessionalProfile,
    ProfessionalStatus,
    Specialty,
)
from calls.tests.factories import verified_user
from wallet import ledger

_charges = itertools.count(1)


def specialty(slug: str, name: str | None = None) -> Specialty:
    found, _created = Specialty.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.title()}
    )
    return found


def pro(
    *,
    name: str = "Helena Souza",
    price: int = 5,
    headline: str = "",
    specialties: tuple[str, ...] = (),
    languages: tuple[str, ...] = (),
    online: bool = False,
    listed: bool = True,
    rating: tuple[int, int] = (0, 0),
    calls_completed: int = 0,
    **user_fields: Any,
) -> User:
    """A professional with a profile; ``rating`` is (count, sum)."""
    user = verified_user(account_type=AccountType.PROFESSIONAL, display_name=name, **user_fields)
    count, total = rating
    profile = ProfessionalProfile.objects.create(
        user=user,
        headline=headline,
        price_per_minute=price,
        accepting_calls=online,
        status=ProfessionalStatus.ONLINE if online else ProfessionalStatus.OFFLINE,
        is_listed=listed,
        rating_count=count,
        rating_sum=total,
        rating_average=(Decimal(total) / count).quantize(Decimal("0.01")) if count else 0,
        calls_completed=calls_completed,
    )
    profile.specialties.set([specialty(slug) for slug in specialties])
    ProfessionalLanguage.objects.bulk_create(
        [ProfessionalLanguage(profile=profile, code=code) for code in languages]
    )
    return user


def call_row(
    *,
    client: User,
    professional: User,
    status: str = CallStatus.ENDED,
    price: int = 5,
    connected_seconds: int = 0,
    ended_at: datetime.datetime | None = None,
    requested_at: datetime.datetime | None = None,
) -> Call:
    now = timezone.now()
    final = status not in (
        CallStatus.REQUESTED,
        CallStatus.RINGING,
        CallStatus.ACCEPTED,
        CallStatus.ACTIVE,
    )
    return Call.objects.create(
        client=client,
        professional=professional,
        status=status,
        end_reason="client_hung_up" if status == CallStatus.ENDED else "",
        price_per_minute=price,
        minimum_fee=10,
        billing_unit_seconds=60,
        requested_at=requested_at or now,
        connected_at=(ended_at or now) - datetime.timedelta(seconds=connected_seconds)
        if connected_seconds
        else None,
        ended_at=(ended_at or now) if final else None,
        connected_seconds=connected_seconds,
    )


def charge(call: Call, amount: int) -> None:
    """Charge ``amount`` for ``call`` as billing does (85/15, reference ``call:<id>``)."""
    ledger.ledger_charge(
        client=call.client,
        professional=call.professional,
        amount=amount,
        reference=call.reference,
        idempotency_key=f"call:{call.pk}:unit:{next(_charges)}",
        metadata={"call_id": call.pk},
    )
