"""The PIX provider interface: charges (cob), their status, the webhook, and sending payouts.

A PSP speaks the Banco Central "API Pix" for charges::

    provider: PixProvider = load_provider("wallet.pix")
    charge = provider.create_charge(txid=..., amount_centavos=1990, expires_in=3600,
                                    description="Atende: 20 tokens")
    charge.br_code          # the "copia e cola" payload shown to the payer
    provider.get_charge(txid)           # status, and the payments received so far
    provider.register_webhook(url)      # PUT /v2/webhook/{chave}

Payouts (a PIX sent to a professional's key) are not part of the standard API; each PSP has
its own endpoint. ``send_pix`` takes our payout id as the provider's idempotency key, so a
retried task can never send the same payout twice.

Every method is a network call: callers run them outside any database transaction. Errors
are PixTemporaryError (retry later) or PixPermanentError (do not retry). Client secrets and
certificates never appear in an exception message or a log line.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChargeStatus(StrEnum):
    """The cob statuses of the API Pix."""

    ACTIVE = "ATIVA"
    COMPLETED = "CONCLUIDA"
    REMOVED_BY_RECEIVER = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    REMOVED_BY_PSP = "REMOVIDA_PELO_PSP"


@dataclass(frozen=True)
class PixReceived:
    """One PIX paid into a charge, as the webhook and ``GET /v2/cob/{txid}`` report it."""

    end_to_end_id: str
    txid: str
    amount_centavos: int
    paid_at: datetime.datetime
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCharge:
    """A charge as the PSP holds it."""

    txid: str
    status: ChargeStatus
    amount_centavos: int
    br_code: str
    location: str
    created_at: datetime.datetime
    expires_in: int
    payments: tuple[PixReceived, ...] = ()


class PayoutStatus(StrEnum):
    SENT = "sent"  # accepted and settled (or settling) at the PSP
    FAILED = "failed"  # the PSP refused it: the money did not leave


@dataclass(frozen=True)
class PayoutResult:
    status: PayoutStatus
    provider_reference: str
    end_to_end_id: str = ""
    failure_reason: str = ""


class PixError(Exception):
    """The PSP did not do what was asked. The message never holds secrets."""

    default_code = "pix_error"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code or self.default_code
        self.http_status = http_status


class PixPermanentError(PixError):
    """Retrying cannot help: bad credentials, a refused request, an unknown charge."""

    default_code = "rejected"


class PixTemporaryError(PixError):
    """The PSP could not be reached or answered 5xx/429. The caller's task retries."""

    default_code = "unavailable"


class PixProvider(ABC):
    """Creates and reads PIX charges, registers the webhook and sends payouts."""

    name: str

    @abstractmethod
    def create_charge(
        self, *, txid: str, amount_centavos: int, expires_in: int, description: str
    ) -> ProviderCharge:
        """Create an immediate charge (``PUT /v2/cob/{txid}``) and return it with its BR Code."""

    @abstractmethod
    def get_charge(self, txid: str) -> ProviderCharge:
        """Read a charge (``GET /v2/cob/{txid}``), with the payments it received."""

    @abstractmethod
    def register_webhook(self, url: str) -> None:
        """Point the PSP's callbacks for our PIX key at ``url`` (``PUT /v2/webhook/{chave}``)."""

    @abstractmethod
    def send_pix(
        self, *, payout_id: str, amount_centavos: int, key: str, key_type: str, description: str
    ) -> PayoutResult:
        """Send a PIX to ``key``; ``payout_id`` makes a retried call send nothing twice."""
