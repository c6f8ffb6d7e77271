"""Reading and writing the API Pix's JSON values: the ``pix`` array, amounts, timestamps, txids.

Shared by the webhook view (a PSP's callback ``POST <webhookUrl>/pix``) and the real adapter
(the ``pix`` array of ``GET /v2/cob/{txid}``), so both apply the same rules. The rules are the
Banco Central's schemas in bacen/pix-api ``openapi.yaml`` (API Pix 2.8.1):

* ``Pix``: ``endToEndId`` (``[a-zA-Z0-9]{32}``), ``valor`` and ``horario`` are required;
  ``txid`` is optional and ``[a-zA-Z0-9]{1,35}``; ``infoPagador``, ``chave``,
  ``componentesValor`` and ``devolucoes`` are optional.
* Amounts (``valor``, ``valor.original``): ``\\d{1,10}\\.\\d{2}``, a string with a dot and
  exactly two decimals, never a JSON number.
* Timestamps (``horario``, ``calendario.criacao``): RFC 3339 date-times, with an offset.
* A charge's ``txid``: ``[a-zA-Z0-9]{26,35}``.

The webhook accepts any txid of 1 to 35 letters and digits, as the ``Pix`` schema does, not
only the 26 to 35 of our charges: a PIX paid through a static BR Code carries whatever short
reference the code printed (up to 25 characters), and rejecting the whole callback for it
would also drop the other PIX in the same batch. A PIX without txid gets ``""``. Which txids
match a charge is the caller's business.

The webhook also fires again for a PIX already notified when one of its refunds (devolução)
reaches a final status, so callers must treat ``end_to_end_id`` as an idempotency key.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from wallet.brcode import MAX_AMOUNT_CENTAVOS
from wallet.providers.pix import PixReceived

__all__ = [
    "MAX_AMOUNT_CENTAVOS",
    "format_valor",
    "is_charge_txid",
    "parse_horario",
    "parse_pix",
    "parse_valor",
    "parse_webhook_payload",
]

_CHARGE_TXID = re.compile(r"[A-Za-z0-9]{26,35}")
_PIX_TXID = re.compile(r"[A-Za-z0-9]{1,35}")
_END_TO_END_ID = re.compile(r"[A-Za-z0-9]{32}")
_VALOR = re.compile(r"\d{1,10}\.\d{2}")
# RFC 3339's date-time, which is stricter than what datetime.fromisoformat() accepts
# ("20200909T201500", a bare date, a missing offset).
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
# Values quoted back in error messages are cut to this length: a hostile body must not be
# able to fill the logs through them.
_QUOTE_LIMIT = 40


def is_charge_txid(txid: str) -> bool:
    """True if ``txid`` can identify a charge (cob): 26 to 35 ASCII letters and digits."""
    return bool(_CHARGE_TXID.fullmatch(txid))


def format_valor(amount_centavos: int) -> str:
    """Write centavos as the API Pix writes money: ``1990`` -> ``"19.90"``.

    Raises ValueError for anything but a positive int within the API's ten integer digits.
    """
    # bool is an int; True centavos is a bug upstream, not one centavo.
    if isinstance(amount_centavos, bool) or not isinstance(amount_centavos, int):
        raise ValueError("An amount is a whole number of centavos.")
    if not 0 < amount_centavos <= MAX_AMOUNT_CENTAVOS:
        raise ValueError(f"An amount is between 1 and {MAX_AMOUNT_CENTAVOS} centavos.")
    reais, centavos = divmod(amount_centavos, 100)
    return "%d.%02d" % (reais, centavos)  # noqa: UP031  (the API's own notation)


def parse_valor(value: object, *, field: str = "valor") -> int:
    """Read an API Pix amount (``"10.00"``) into centavos (``1000``), exactly.

    Only the documented ``\\d{1,10}\\.\\d{2}`` is accepted: ``"10"``, ``"10.5"``, ``"1e3"``,
    ``"-1.00"`` and JSON numbers are refused rather than guessed at, because a float such as
    ``19.9`` may already have lost the centavo it was meant to carry. Zero is refused too: no
    PIX moves zero reais. Raises ValueError naming ``field``.
    """
    if not isinstance(value, str) or not _VALOR.fullmatch(value):
        raise ValueError(f'{field} must be a string like "10.00", not {_quote(value)}.')
    centavos = Decimal(value) * 100
    # Cannot fail after the pattern matched; it states the invariant the pattern buys.
    assert centavos == centavos.to_integral_value()
    if centavos <= 0:
        raise ValueError(f"{field} must be more than zero, not {_quote(value)}.")
    return int(centavos)


def parse_horario(value: object, *, field: str = "horario") -> datetime.datetime:
    """Read an RFC 3339 timestamp into an aware datetime, keeping its offset.

    Raises ValueError naming ``field`` for anything else, a timestamp without offset
    included: a naive time from a PSP cannot be placed on our timeline.
    """
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            f"{field} must be an RFC 3339 timestamp with an offset, not {_quote(value)}."
        )
    try:
        return datetime.datetime.fromisoformat(value.upper())
    except ValueError:
        # The shape matched but the date does not exist (2024-02-30, 25:00).
        raise ValueError(f"{field} is not a real date and time: {_quote(value)}.") from None


def parse_pix(entry: object, *, field: str = "pix[0]", charge_txid: bool = False) -> PixReceived:
    """Read one item of a ``pix`` array (webhook or cob) into a PixReceived.

    With ``charge_txid``, a present txid must be a charge's (26 to 35 characters), as the cob
    schema narrows it. ``raw`` keeps the whole item (``infoPagador``, ``devolucoes``...) for
    the caller. Raises ValueError naming the offending field.
    """
    if not isinstance(entry, dict):
        raise ValueError(f"{field} must be an object, not {_quote(entry)}.")
    end_to_end_id = entry.get("endToEndId")
    if not isinstance(end_to_end_id, str) or not _END_TO_END_ID.fullmatch(end_to_end_id):
        raise ValueError(
            f"{field}.endToEndId must be 32 ASCII letters and digits, not {_quote(end_to_end_id)}."
        )
    txid = entry.get("txid")
    if txid is None:
        txid = ""
    else:
        pattern, limits = (_CHARGE_TXID, "26 to 35") if charge_txid else (_PIX_TXID, "1 to 35")
        if not isinstance(txid, str) or not pattern.fullmatch(txid):
            raise ValueError(
                f"{field}.txid must be {limits} ASCII letters and digits, not {_quote(txid)}."
            )
    return PixReceived(
        end_to_end_id=end_to_end_id,
        txid=txid,
        amount_centavos=parse_valor(entry.get("valor"), field=f"{field}.valor"),
        paid_at=parse_horario(entry.get("horario"), field=f"{field}.horario"),
        raw=dict(entry),
    )


def parse_webhook_payload(body: dict[str, Any]) -> list[PixReceived]:
    """Validate a PSP's PIX callback (``{"pix": [...]}``) and return its PIX, in order.

    Strict: one malformed item makes the whole body malformed, so the view can answer 400
    and the PSP keeps the notification for a later retry instead of half of it being lost.
    An empty ``pix`` array is well formed and returns ``[]``. Raises ValueError with a
    message that names the offending field.
    """
    if not isinstance(body, dict):
        raise ValueError(f"The body must be a JSON object, not {_quote(body)}.")
    entries = body.get("pix")
    if not isinstance(entries, list):
        raise ValueError(f'The body must have a "pix" array, not {_quote(entries)}.')
    return [parse_pix(entry, field=f"pix[{index}]") for index, entry in enumerate(entries)]


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"
