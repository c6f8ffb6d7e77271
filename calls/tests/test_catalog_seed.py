"""The calls demo seed: a catalog that is not empty, and nothing doubled on a second run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AccountType
from calls.models import Call, CallRating, ProfessionalProfile, Specialty
from calls.seed import DEMO_SPECIALTIES, seed_calls_demo
from calls.tests.factories import verified_user
from wallet.models import Transfer

pytestmark = pytest.mark.django_db


def test_the_seed_fills_the_catalog_once() -> None:
    demo = verified_user(account_type=AccountType.PROFESSIONAL, email="professional@atende.test")

    seed_calls_demo(professional=demo)
    counts = (
        Specialty.objects.count(),
        ProfessionalProfile.objects.count(),
        Call.objects.count(),
        CallRating.objects.count(),
        Transfer.objects.count(),
    )
    seed_calls_demo(professional=demo)

    assert counts == (len(DEMO_SPECIALTIES), 5, 9, 9, counts[4])
    assert (
        Specialty.objects.count(),
        ProfessionalProfile.objects.count(),
        Call.objects.count(),
        CallRating.objects.count(),
        Transfer.objects.count(),
    ) == counts
    profile = ProfessionalProfile.objects.get(user=demo)
    assert (profile.price_per_minute, profile.accepting_calls) == (2, False)
    assert sorted(profile.languages.values_list("code", flat=True)) == ["en", "pt-BR"]
    assert profile.availability.count() == 10
    rafael = ProfessionalProfile.objects.get(user__email="pro2@atende.test")
    assert (rafael.rating_count, rafael.rating_sum, rafael.rating_average) == (
        3,
        14,
        Decimal("4.67"),
    )
