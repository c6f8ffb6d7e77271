"""The wallet's section of a person's data export."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts import privacy
from wallet import payouts
from wallet.models import Payout, Transfer
from wallet.tests.helpers import earn, professional, verified_client

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_wallet_records_of_the_person() -> None:
    pro = professional()
    client = verified_client()
    reference = earn(pro, 40, client=client)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    payouts.payout_request(
        user=pro,
        amount=30,
        pix_key_type="cpf",
        pix_key="529.982.247-25",
        idempotency_key="export-payout",
    )
    payout = Payout.objects.get()
    charge, release = Transfer.objects.filter(
        credit_account__user=pro, kind__in=["charge", "release"]
    ).order_by("pk")

    section = privacy.user_data_export(user=pro)["wallet"]

    assert section == {
        "accounts": [
            {"asset": "token", "kind": "earnings_pending", "balance": 0, "held": 0},
            {"asset": "token", "kind": "earnings", "balance": 34, "held": 30},
        ],
        "transfers": [
            {
                "created_at": charge.created_at.isoformat(),
                "kind": "charge",
                "asset": "token",
                "amount": 34,
                "from_account": None,
                "to_account": "earnings_pending",
                "reference": reference,
            },
            {
                "created_at": release.created_at.isoformat(),
                "kind": "release",
                "asset": "token",
                "amount": 34,
                "from_account": "earnings_pending",
                "to_account": "earnings",
                "reference": release.reference,
            },
        ],
        "pix_charges": [],
        "payouts": [
            {
                "amount": 30,
                "amount_centavos": 3000,
                "pix_key_type": "cpf",
                "pix_key": "52998224725",
                "status": "requested",
                "rejection_reason": "",
                "created_at": payout.created_at.isoformat(),
                "completed_at": None,
            }
        ],
        "disputes": [],
    }


def test_another_persons_records_are_not_in_the_export() -> None:
    pro = professional()
    earn(pro, 40)

    section = privacy.user_data_export(user=verified_client())["wallet"]

    assert section == {
        "accounts": [],
        "transfers": [],
        "pix_charges": [],
        "payouts": [],
        "disputes": [],
    }
