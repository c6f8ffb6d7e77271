"""People and funded wallets for the wallet's tests.

Money only ever enters a wallet the way it does in production: a transfer from the platform's
PIX clearing account through ``ledger.ledger_transfer``. Setting a balance directly would make
the ledger disagree with itself (``ledger_check`` would report it), so nothing here does.
"""

from __future__ import annotations

import itertools
from typing import Any

from accounts.models import AccountType, User
from accounts.tests.factories import UserFactory
from wallet import ledger
from wallet.models import Account, AccountKind, Transfer, TransferKind

_top_ups = itertools.count(1)


class ProfessionalFactory(UserFactory):
    account_type = AccountType.PROFESSIONAL


def pix_clearing() -> Account:
    """The platform's account that money paid by PIX comes from (it goes negative)."""
    return ledger.account_for_platform(kind=AccountKind.PIX_CLEARING)


def wallet_for(user: User) -> Account:
    """The user's token wallet (created on first use, empty)."""
    return ledger.account_for_user(user=user, kind=AccountKind.CLIENT_WALLET)


def fund_wallet(*, user: User, amount: int, idempotency_key: str = "") -> Transfer:
    """Top up ``user``'s wallet with ``amount`` tokens, as a paid PIX charge would."""
    return ledger.ledger_transfer(
        debit=pix_clearing(),
        credit=wallet_for(user),
        amount=amount,
        kind=TransferKind.TOP_UP,
        idempotency_key=idempotency_key or f"test-top-up:{next(_top_ups)}",
        reference="pix:test",
    )


def funded_client(*, tokens: int = 100, **user_fields: Any) -> User:
    """A client whose wallet holds ``tokens`` (no wallet at all when ``tokens`` is 0)."""
    client: User = UserFactory(**user_fields)
    if tokens:
        fund_wallet(user=client, amount=tokens)
    return client
