"""Builders shared by the wallet's API and flow tests."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import AccountType, KycStatus, KycSubmission, User
from accounts.tests.factories import UserFactory

# Shared with every app's tests; wallet tests import them from here too.
from accounts.tests.helpers import client_for as client_for
from accounts.tests.helpers import committed as committed
from wallet import ledger
from wallet.models import Account, AccountKind, TokenPackage, TransferKind

_keys = itertools.count(1)


def verified_client(**fields: Any) -> User:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "email_verified_at": now,
        "phone": "+5511987654321",
        "phone_verified_at": now,
        "language": "en",
    }
    return UserFactory(**{**defaults, **fields})


def professional(*, kyc: bool = True, **fields: Any) -> User:
    user = verified_client(account_type=AccountType.PROFESSIONAL, **fields)
    if kyc:
        KycSubmission.objects.create(
            user=user,
            full_name="Helena Souza",
            cpf="52998224725",
            birth_date=datetime.date(1990, 5, 17),
            document_front="kyc/front.jpg",
            document_back="kyc/back.jpg",
            selfie="kyc/selfie.jpg",
            status=KycStatus.APPROVED,
            reviewed_at=timezone.now(),
        )
    return user


def fund(user: User, tokens: int) -> None:
    """Put tokens in the user's wallet the way a paid PIX does (from PIX clearing)."""
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=user, kind=AccountKind.CLIENT_WALLET),
        amount=tokens,
        kind=TransferKind.TOP_UP,
        idempotency_key=f"test-fund-{next(_keys)}",
    )


def earn(professional: User, tokens: int, *, client: User | None = None) -> str:
    """A call charge of ``tokens`` from a (new) client; returns its reference."""
    client = client or verified_client()
    fund(client, tokens)
    reference = f"call:{next(_keys)}"
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=tokens,
        reference=reference,
        idempotency_key=f"test-charge-{reference}",
    )
    return reference


def balance(user: User, kind: str = AccountKind.CLIENT_WALLET) -> tuple[int, int]:
    """(balance, held) of one of the user's accounts, read from the database."""
    account = ledger.account_for_user(user=user, kind=kind)
    account.refresh_from_db()
    return account.balance, account.held


def platform_balance(kind: str) -> int:
    account = Account.objects.filter(
        user__isnull=True, organization__isnull=True, kind=kind
    ).first()
    return account.balance if account else 0


def package(**fields: Any) -> TokenPackage:
    return TokenPackage.objects.create(
        **{"name": "Popular", "tokens": 50, "price_centavos": 4500, **fields}
    )


def key() -> str:
    return f"idem-{next(_keys)}"


def staff_browser(*permissions: str) -> tuple[User, Any]:
    """A staff member signed in to the admin past its second factor, with ``permissions``
    (codenames of the wallet app, e.g. ``"change_payout"``)."""
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = verified_client(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="wallet", codename__in=permissions)
    )
    device = TOTPDevice.objects.create(user=staff, name="t", confirmed=True)
    browser = Client()
    browser.force_login(staff)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return staff, browser
