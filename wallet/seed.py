"""Demo data of the wallet, for ``manage.py seed_demo``: packages, and some history.

Everything goes through the ledger with fixed idempotency keys, so running the seed again
moves nothing twice.
"""

from __future__ import annotations

from typing import Any

from wallet import ledger
from wallet.models import AccountKind, TokenPackage, TransferKind

DEMO_PACKAGES = [
    ("Inicial", 20, 1990, 1),
    ("Popular", 50, 4500, 2),
    ("Profissional", 120, 9900, 3),
]


def seed_wallet_demo(*, client: Any, professional: Any) -> None:
    if not TokenPackage.objects.exists():
        for name, tokens, price, position in DEMO_PACKAGES:
            TokenPackage.objects.create(
                name=name, tokens=tokens, price_centavos=price, position=position
            )
    # A first top-up and a past call, so the statement, the receipt and the dispute form have
    # something to show; the professional gets the call's earnings in clearing.
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET),
        amount=100,
        kind=TransferKind.TOP_UP,
        idempotency_key="seed:demo-client-top-up",
        reference="seed:welcome",
    )
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=30,
        reference="call:demo-1",
        idempotency_key="seed:demo-call-1",
    )
