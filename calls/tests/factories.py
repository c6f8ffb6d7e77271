"""People, profiles and calls for the calls tests.

Money enters a wallet only as in production (a top-up transfer from PIX clearing), and calls
reach a status only through the services, so holds, charges and timestamps always agree with
what the state machine would have produced.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any, cast

from django.utils import timezone

from accounts.models import AccountType, User
from accounts.tests.factories import UserFactory
from calls.models import Call, CallStatus, ProfessionalProfile, ProfessionalStatus
from chat.models import PresenceConnection
from wallet import ledger
from wallet.models import AccountKind, TransferKind

_keys = itertools.count(1)
_channels = itertools.count(1)


def verified_user(**fields: Any) -> User:
    """A person with a verified email and phone (what starting a call requires)."""
    now = timezone.now()
    defaults: dict[str, Any] = {
        "email_verified_at": now,
        "phone": "+5511987654321",
        "phone_verified_at": now,
        "language": "en",
    }
    return cast(User, UserFactory(**{**defaults, **fields}))


def fund(user: User, tokens: int) -> None:
    """Put ``tokens`` in the user's wallet the way a paid PIX does (from PIX clearing)."""
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=user, kind=AccountKind.CLIENT_WALLET),
        amount=tokens,
        kind=TransferKind.TOP_UP,
        idempotency_key=f"calls-test-fund-{next(_keys)}",
        reference="pix:test",
    )


def client(*, balance: int = 100, **fields: Any) -> User:
    """A verified client holding ``balance`` tokens (no wallet at all when 0)."""
    user = verified_user(**fields)
    if balance:
        fund(user, balance)
    return user


def connect(user: User, channel_name: str | None = None) -> str:
    """An open socket of ``user`` as chat records it (a PresenceConnection row)."""
    channel_name = channel_name or f"test.channel.{next(_channels)}"
    PresenceConnection.objects.create(user=user, channel_name=channel_name)
    return channel_name


def professional(
    *,
    price: int = 5,
    online: bool = True,
    listed: bool = True,
    **fields: Any,
) -> User:
    """A verified professional with a profile at ``price`` tokens a minute.

    ``online``: the switch is on, a socket is open and the status is online; otherwise the
    switch is off and the status offline.
    """
    user = verified_user(account_type=AccountType.PROFESSIONAL, **fields)
    ProfessionalProfile.objects.create(
        user=user,
        headline="Psychologist",
        price_per_minute=price,
        accepting_calls=online,
        is_listed=listed,
        status=ProfessionalStatus.ONLINE if online else ProfessionalStatus.OFFLINE,
    )
    if online:
        connect(user)
    return user


def profile_of(user: User) -> ProfessionalProfile:
    return ProfessionalProfile.objects.get(user=user)


def live_call(
    status: str = CallStatus.RINGING,
    *,
    client_user: User | None = None,
    professional_user: User | None = None,
    balance: int = 100,
    price: int = 5,
    now: datetime.datetime | None = None,
) -> Call:
    """A call brought to ``status`` through the services (ringing, accepted or active; or a
    final status: rejected, cancelled, ended).

    ``now`` is when the media connected (for ``active``); billing starts then.
    """
    from calls import services

    payer = client_user or client(balance=balance)
    pro = professional_user or professional(price=price)
    call = services.call_request(client=payer, professional_id=pro.pk)
    if status == CallStatus.RINGING:
        return call
    if status == CallStatus.REJECTED:
        return services.call_reject(call_id=call.pk, user=pro)
    if status == CallStatus.CANCELLED:
        return services.call_cancel(call_id=call.pk, user=payer)
    services.call_accept(call_id=call.pk, user=pro)
    if status == CallStatus.ACCEPTED:
        return Call.objects.get(pk=call.pk)
    services.call_media_report(call_id=call.pk, user=payer, connected=True, now=now)
    call = services.call_media_report(call_id=call.pk, user=pro, connected=True, now=now)
    if status == CallStatus.ACTIVE:
        return call
    if status == CallStatus.ENDED:
        return services.call_hangup(call_id=call.pk, user=payer)
    raise ValueError(f"live_call cannot build a {status} call")
