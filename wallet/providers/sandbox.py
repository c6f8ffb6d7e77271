"""A PIX adapter that moves no money: charges live in memory, payouts go to an outbox.

For the embedded default (``make run``), where tasks run eagerly in the server process, and
for tests. Its BR Codes are real dynamic codes (``wallet.brcode.build_dynamic``) whose location,
``sandbox.pix.invalid/v2/cob/<txid>``, no bank can fetch: ``.invalid`` is reserved for names
that must never resolve (RFC 2606), so a sandbox code pasted into a real banking app fails
instead of paying anyone.

The sandbox learns of payments only through the simulated webhook, so ``get_charge`` reports
what ``create_charge`` made, in this process: ATIVA, no payments. Payouts succeed, except to
``FAILURE_KEY``, the documented way to see a refused payout in development.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from wallet.brcode import build_dynamic
from wallet.pix_keys import InvalidPixKey, mask_pix_key, normalize_pix_key
from wallet.providers.pix import (
    ChargeStatus,
    PayoutResult,
    PayoutStatus,
    PixPermanentError,
    PixProvider,
    ProviderCharge,
)
from wallet.providers.pix_payload import format_valor, is_charge_txid

logger = logging.getLogger(__name__)

LOCATION_HOST = "sandbox.pix.invalid"
# An e-mail key: payouts to it fail, so the failure path can be tried by hand.
FAILURE_KEY = "falha@sandbox.invalid"
FAILURE_REASON = "The sandbox refuses every payout to falha@sandbox.invalid."
MAX_DESCRIPTION_LENGTH = 140
# What the real adapter accepts as a PSP idempotency key (Efí's idEnvio).
_PAYOUT_ID = re.compile(r"[A-Za-z0-9]{1,35}")


@dataclass(frozen=True)
class SandboxPayout:
    """One payout the sandbox pretended to send."""

    payout_id: str
    amount_centavos: int
    key: str
    key_type: str
    description: str
    result: PayoutResult
    sent_at: datetime


_charges: dict[str, ProviderCharge] = {}
_outbox: list[SandboxPayout] = []
# Eager tasks may run in several server threads at once (ASGI thread pool).
_lock = threading.Lock()


def sent() -> list[SandboxPayout]:
    """A copy of every payout sent so far, oldest first; a retried payout appears once."""
    with _lock:
        return list(_outbox)


def clear() -> None:
    """Forget every charge and payout (tests call it between cases)."""
    with _lock:
        _charges.clear()
        _outbox.clear()


def end_to_end_id_for(payout_id: str) -> str:
    """The end-to-end id the sandbox gives a payout: ``E`` and 31 letters and digits.

    Derived from the payout id alone, so a retried payout gets the same id, as it would from
    a PSP that recognised the retry.
    """
    return "E" + hashlib.sha256(payout_id.encode()).hexdigest()[:31]


class SandboxPix(PixProvider):
    """Keeps charges in memory and payouts in the outbox; refuses what a PSP would refuse."""

    name = "sandbox"

    def create_charge(
        self, *, txid: str, amount_centavos: int, expires_in: int, description: str
    ) -> ProviderCharge:
        # Same checks as the real adapter, so a bad txid or amount fails in development too.
        if not isinstance(txid, str) or not is_charge_txid(txid):
            raise PixPermanentError(
                "A charge's txid is 26 to 35 ASCII letters and digits.", code="invalid_request"
            )
        _check_amount(amount_centavos)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise PixPermanentError(
                "expires_in is a positive number of seconds.", code="invalid_request"
            )
        _check_description(description)
        location = f"{LOCATION_HOST}/v2/cob/{txid}"
        with _lock:
            existing = _charges.get(txid)
            # A retried create answers the charge already made, as PUT /cob/{txid} does.
            if (
                existing is not None
                and existing.amount_centavos == amount_centavos
                and existing.expires_in == expires_in
            ):
                return existing
            charge = ProviderCharge(
                txid=txid,
                status=ChargeStatus.ACTIVE,
                amount_centavos=amount_centavos,
                br_code=build_dynamic(
                    location=location,
                    merchant_name=settings.PIX_MERCHANT_NAME,
                    merchant_city=settings.PIX_MERCHANT_CITY,
                    amount_centavos=amount_centavos,
                ),
                location=location,
                created_at=timezone.now(),
                expires_in=expires_in,
            )
            _charges[txid] = charge
        logger.info("Sandbox PIX charge %s created for %d centavos", txid, amount_centavos)
        return charge

    def get_charge(self, txid: str) -> ProviderCharge:
        with _lock:
            charge = _charges.get(txid)
        if charge is None:
            # Charges made by another process (or before a restart) are gone: say so, rather
            # than invent an ATIVA charge with no amount and no BR Code.
            raise PixPermanentError("unknown charge", code="not_found", http_status=404)
        return charge

    def register_webhook(self, url: str) -> None:
        # The simulated webhook is called in-process; there is nothing to register.
        logger.info("Sandbox PIX: webhook registration skipped")

    def send_pix(
        self, *, payout_id: str, amount_centavos: int, key: str, key_type: str, description: str
    ) -> PayoutResult:
        if not isinstance(payout_id, str) or not _PAYOUT_ID.fullmatch(payout_id):
            raise PixPermanentError(
                "The payout id must be 1 to 35 ASCII letters and digits.", code="invalid_request"
            )
        _check_amount(amount_centavos)
        _check_description(description)
        try:
            normalized_key = normalize_pix_key(key_type, key)
        except InvalidPixKey:
            raise PixPermanentError(
                f"The destination is not a valid PIX key of type {key_type!r}.",
                code="invalid_key",
            ) from None
        if normalized_key == FAILURE_KEY:
            result = PayoutResult(
                status=PayoutStatus.FAILED,
                provider_reference=payout_id,
                failure_reason=FAILURE_REASON,
            )
        else:
            result = PayoutResult(
                status=PayoutStatus.SENT,
                provider_reference=payout_id,
                end_to_end_id=end_to_end_id_for(payout_id),
            )
        with _lock:
            for payout in _outbox:
                if payout.payout_id != payout_id:
                    continue
                # The payout id is the idempotency key: a retry sends nothing new, and the
                # same id for a different payout is a bug the real PSP would refuse (409).
                if payout.amount_centavos != amount_centavos or payout.key != normalized_key:
                    raise PixPermanentError(
                        f"Payout {payout_id} was already sent with other details.",
                        code="conflict",
                        http_status=409,
                    )
                return payout.result
            _outbox.append(
                SandboxPayout(
                    payout_id=payout_id,
                    amount_centavos=amount_centavos,
                    key=normalized_key,
                    key_type=key_type,
                    description=description,
                    result=result,
                    sent_at=timezone.now(),
                )
            )
        logger.info(
            "Sandbox PIX payout %s of %d centavos to %s: %s",
            payout_id,
            amount_centavos,
            mask_pix_key(key_type, normalized_key),
            result.status,
        )
        return result


def _check_amount(amount_centavos: int) -> None:
    try:
        format_valor(amount_centavos)
    except ValueError as exc:
        raise PixPermanentError(str(exc), code="invalid_request") from None


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise PixPermanentError(
            f"The description has more than {MAX_DESCRIPTION_LENGTH} characters.",
            code="invalid_request",
        )
