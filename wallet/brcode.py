"""PIX BR Code: the "copia e cola" text behind a PIX QR code, built and parsed.

A BR Code is an EMV merchant-presented QR payload (EMV QRCPS-MPM) as the Banco Central
profiles it in the "Manual do BR Code" and the "Manual de Padrões para Iniciação do Pix".
Every field is ``<2-digit id><2-digit length><value>``; templates (26, 62) nest the same
encoding inside their value; field 63 closes the payload with a CRC16 over everything
before it, its own ``6304`` included.

Two forms:

* static: the merchant account template carries the receiver's key (chave) and, optionally,
  a free-text message (infoAdicional). Anyone can print one; it may be paid many times.
* dynamic: the template carries only a location, a URL without scheme where the payer's
  bank fetches a signed charge (cob) from our PSP. Point of initiation ``12`` says the code is
  meant to be paid once.

This module is pure: no Django, no I/O. Names and cities are reduced to printable ASCII
because payers' banks render the payload byte for byte and many refuse anything else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_AMOUNT_CENTAVOS",
    "MAX_MERCHANT_CITY_LENGTH",
    "MAX_MERCHANT_NAME_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "MAX_TXID_LENGTH",
    "NO_TXID",
    "BrCode",
    "BrCodeError",
    "build",
    "build_dynamic",
    "build_static",
    "crc16_ccitt_false",
    "parse",
    "parse_tlv",
]

PIX_GUI = "br.gov.bcb.pix"
NO_TXID = "***"
MAX_PAYLOAD_LENGTH = 512
MAX_VALUE_LENGTH = 99  # the length is two decimal digits
MAX_MERCHANT_NAME_LENGTH = 25
MAX_MERCHANT_CITY_LENGTH = 15
MAX_TXID_LENGTH = 25
MAX_AMOUNT_LENGTH = 13
# The largest amount whose "reais.centavos" text fits in 13 characters: 9999999999.99.
MAX_AMOUNT_CENTAVOS = 999_999_999_999

# Top-level field ids.
_PAYLOAD_FORMAT = "00"
_POINT_OF_INITIATION = "01"
_MERCHANT_ACCOUNT = "26"
_MERCHANT_CATEGORY = "52"
_CURRENCY = "53"
_AMOUNT = "54"
_COUNTRY = "58"
_MERCHANT_NAME = "59"
_MERCHANT_CITY = "60"
_ADDITIONAL_DATA = "62"
_CRC = "63"
# Subfield ids inside the merchant account (26) and additional data (62) templates.
_ACCOUNT_GUI = "00"
_ACCOUNT_KEY = "01"
_ACCOUNT_DESCRIPTION = "02"
_ACCOUNT_LOCATION = "25"
_REFERENCE_LABEL = "05"

_STATIC_INITIATION = "11"
_ONE_TIME_INITIATION = "12"
_BRL = "986"

# EMV reserves 26-51 for merchant account templates; other arrangements may sit beside PIX.
_MERCHANT_ACCOUNT_IDS = frozenset(f"{number:02d}" for number in range(26, 52))
_TXID = re.compile(r"[A-Za-z0-9]{1,25}")
_AMOUNT_TEXT = re.compile(r"(\d+)(?:\.(\d{1,2}))?")
_PRINTABLE_ASCII = re.compile(r"[ -~]*")


class BrCodeError(ValueError):
    """The fields cannot make a valid BR Code, or the text is not one."""


@dataclass(frozen=True)
class BrCode:
    """The fields of a PIX BR Code; exactly one of ``key`` and ``location`` is set."""

    key: str = ""  # chave: static form
    location: str = ""  # URL without "https://": dynamic form
    amount_centavos: int | None = None  # None lets the payer type the amount
    merchant_name: str = ""
    merchant_city: str = ""
    txid: str = NO_TXID
    description: str = ""  # infoAdicional: static form only
    one_time: bool = False  # point of initiation "12"

    @property
    def is_dynamic(self) -> bool:
        return bool(self.location)


def build_static(
    *,
    key: str,
    merchant_name: str,
    merchant_city: str,
    amount_centavos: int | None = None,
    txid: str = NO_TXID,
    description: str = "",
    one_time: bool = False,
) -> str:
    """Return the payload of a static BR Code that pays into ``key``.

    ``key`` must already be normalized (see ``wallet.pix_keys``): the payer's bank looks it up
    in the DICT exactly as written. Name, city and description are reduced to ASCII and cut
    to their limits. Raises BrCodeError.
    """
    return build(
        BrCode(
            key=key,
            amount_centavos=amount_centavos,
            merchant_name=merchant_name,
            merchant_city=merchant_city,
            txid=txid,
            description=description,
            one_time=one_time,
        )
    )


def build_dynamic(
    *,
    location: str,
    merchant_name: str,
    merchant_city: str,
    amount_centavos: int | None = None,
    txid: str = NO_TXID,
    one_time: bool = True,
) -> str:
    """Return the payload of a dynamic BR Code pointing at a PSP's charge ``location``.

    ``location`` is the cob's ``location`` as the API Pix returns it, without scheme: the
    payer's bank always fetches it over HTTPS. The charge behind it carries the real txid
    and amount, so the manual expects ``txid`` to stay ``***`` here; a value is accepted for
    PSPs that ask for it. Raises BrCodeError.
    """
    if not location.strip():
        raise BrCodeError("A dynamic BR Code needs a location.")
    return build(
        BrCode(
            location=location,
            amount_centavos=amount_centavos,
            merchant_name=merchant_name,
            merchant_city=merchant_city,
            txid=txid,
            one_time=one_time,
        )
    )


def build(code: BrCode) -> str:
    """Return the payload for ``code``, static or dynamic by which of key/location is set.

    Raises BrCodeError for anything the manual forbids rather than emitting a code that
    some payer's bank would refuse at the till.
    """
    if code.key and code.location:
        raise BrCodeError("A BR Code has either a key (static) or a location (dynamic).")
    name = _ascii_field(code.merchant_name, MAX_MERCHANT_NAME_LENGTH, "merchant name")
    city = _ascii_field(code.merchant_city, MAX_MERCHANT_CITY_LENGTH, "merchant city")
    _check_txid(code.txid)

    account = _tlv(_ACCOUNT_GUI, PIX_GUI)
    if code.location:
        if code.description:
            raise BrCodeError("A dynamic BR Code carries its description in the charge.")
        _check_location(code.location)
        account += _tlv(_ACCOUNT_LOCATION, code.location)
    else:
        _check_key(code.key)
        account += _tlv(_ACCOUNT_KEY, code.key)
        description = _normalize_ascii(code.description).strip()
        if description:
            account += _tlv(_ACCOUNT_DESCRIPTION, description)

    payload = _tlv(_PAYLOAD_FORMAT, "01")
    if code.one_time:
        payload += _tlv(_POINT_OF_INITIATION, _ONE_TIME_INITIATION)
    payload += _tlv(_MERCHANT_ACCOUNT, account)
    payload += _tlv(_MERCHANT_CATEGORY, "0000")
    payload += _tlv(_CURRENCY, _BRL)
    if code.amount_centavos is not None:
        payload += _tlv(_AMOUNT, _format_amount(code.amount_centavos))
    payload += _tlv(_COUNTRY, "BR")
    payload += _tlv(_MERCHANT_NAME, name)
    payload += _tlv(_MERCHANT_CITY, city)
    payload += _tlv(_ADDITIONAL_DATA, _tlv(_REFERENCE_LABEL, code.txid))
    payload += _CRC + "04"
    payload += crc16_ccitt_false(payload.encode("ascii"))
    # Unreachable with today's field limits (about 230 characters at most); kept so a new
    # field cannot silently produce a code that payers' banks refuse.
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise BrCodeError(f"The BR Code is longer than {MAX_PAYLOAD_LENGTH} characters.")
    return payload


def parse(payload: str) -> BrCode:
    """Read a BR Code payload back into its fields.

    Surrounding whitespace is ignored, since pasted "copia e cola" text often carries a
    newline. The CRC is checked before any field is trusted. Other arrangements' merchant
    account templates and fields this module does not know are skipped. Raises BrCodeError
    for malformed TLV, a CRC mismatch, a missing mandatory field or a non-PIX, non-BRL code.
    """
    payload = payload.strip()
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise BrCodeError(f"The BR Code is longer than {MAX_PAYLOAD_LENGTH} characters.")
    fields = parse_tlv(payload)
    if not fields or fields[-1][0] != _CRC or len(fields[-1][1]) != 4:
        raise BrCodeError("The BR Code does not end with its CRC (field 63).")
    expected_crc = crc16_ccitt_false(payload[:-4].encode("ascii"))
    if fields[-1][1].upper() != expected_crc:
        raise BrCodeError(
            f"CRC mismatch: the code says {fields[-1][1]}, its content {expected_crc}."
        )

    values = _unique(fields, "the BR Code")
    if fields[0] != (_PAYLOAD_FORMAT, "01"):
        raise BrCodeError("The BR Code does not start with payload format indicator 01.")
    initiation = values.get(_POINT_OF_INITIATION, _STATIC_INITIATION)
    if initiation not in (_STATIC_INITIATION, _ONE_TIME_INITIATION):
        raise BrCodeError(f"Unknown point of initiation method {initiation!r}.")
    for field_id in (_MERCHANT_CATEGORY, _CURRENCY, _COUNTRY, _MERCHANT_NAME, _MERCHANT_CITY):
        if not values.get(field_id):
            raise BrCodeError(f"The BR Code lacks mandatory field {field_id}.")
    if values[_CURRENCY] != _BRL:
        raise BrCodeError(f"The BR Code is in currency {values[_CURRENCY]}, not BRL (986).")
    if values[_COUNTRY] != "BR":
        raise BrCodeError(f"The BR Code is from country {values[_COUNTRY]!r}, not BR.")

    account = _pix_account(fields)
    key = account.get(_ACCOUNT_KEY, "")
    location = account.get(_ACCOUNT_LOCATION, "")
    if bool(key) == bool(location):
        raise BrCodeError("The PIX account must hold either a key (01) or a location (25).")

    if _ADDITIONAL_DATA not in values:
        raise BrCodeError(f"The BR Code lacks mandatory field {_ADDITIONAL_DATA}.")
    additional = _unique(parse_tlv(values[_ADDITIONAL_DATA]), "field 62")
    txid = additional.get(_REFERENCE_LABEL, "")
    _check_txid(txid)

    amount = values.get(_AMOUNT)
    return BrCode(
        key=key,
        location=location,
        amount_centavos=None if amount is None else _parse_amount(amount),
        merchant_name=values[_MERCHANT_NAME],
        merchant_city=values[_MERCHANT_CITY],
        txid=txid,
        description=account.get(_ACCOUNT_DESCRIPTION, ""),
        one_time=initiation == _ONE_TIME_INITIATION,
    )


def parse_tlv(payload: str) -> list[tuple[str, str]]:
    """Split one level of TLV into ``(id, value)`` pairs, in order; templates stay unparsed.

    Raises BrCodeError when an id or length is not two digits, or a value runs past the end.
    """
    if not _PRINTABLE_ASCII.fullmatch(payload):
        raise BrCodeError("A BR Code holds printable ASCII characters only.")
    fields: list[tuple[str, str]] = []
    position = 0
    while position < len(payload):
        header = payload[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise BrCodeError(f"Malformed TLV header {header!r} at position {position}.")
        field_id, length = header[:2], int(header[2:])
        start = position + 4
        value = payload[start : start + length]
        if len(value) != length:
            raise BrCodeError(f"Field {field_id} at position {position} is cut short.")
        fields.append((field_id, value))
        position = start + length
    return fields


def crc16_ccitt_false(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), 4 hex.

    Bitwise rather than table-driven: a BR Code is at most 512 bytes.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(field_id: str, value: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise BrCodeError(
            f"Field {field_id} would hold {len(value)} characters; the limit is {MAX_VALUE_LENGTH}."
        )
    return f"{field_id}{len(value):02d}{value}"


def _normalize_ascii(text: str) -> str:
    """Strip accents ("São" -> "Sao") and drop whatever is still not printable ASCII."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if " " <= char <= "~")


def _ascii_field(text: str, limit: int, label: str) -> str:
    # Strip after cutting too, so a cut never leaves a trailing space in the code.
    value = _normalize_ascii(text).strip()[:limit].strip()
    if not value:
        raise BrCodeError(f"The {label} is empty once reduced to ASCII.")
    return value


def _check_key(key: str) -> None:
    if not key.strip():
        raise BrCodeError("A static BR Code needs a PIX key.")
    if key != key.strip() or not _PRINTABLE_ASCII.fullmatch(key):
        raise BrCodeError("A PIX key in a BR Code is printable ASCII without surrounding spaces.")


def _check_location(location: str) -> None:
    if "://" in location:
        raise BrCodeError("The location goes without scheme: the payer's bank adds https://.")
    if location != location.strip() or not _PRINTABLE_ASCII.fullmatch(location):
        raise BrCodeError("The location is printable ASCII without surrounding spaces.")


def _check_txid(txid: str) -> None:
    if txid != NO_TXID and not _TXID.fullmatch(txid):
        raise BrCodeError(
            f"The txid must be '***' or 1 to {MAX_TXID_LENGTH} ASCII letters and digits."
        )


def _format_amount(centavos: int) -> str:
    # bool is an int; True centavos is a bug upstream, not one centavo.
    if isinstance(centavos, bool) or not isinstance(centavos, int):
        raise BrCodeError("The amount is a whole number of centavos.")
    if centavos <= 0:
        raise BrCodeError("The amount must be positive; leave it out to let the payer choose.")
    if centavos > MAX_AMOUNT_CENTAVOS:
        raise BrCodeError(f"The amount is larger than {MAX_AMOUNT_CENTAVOS} centavos.")
    return f"{centavos // 100}.{centavos % 100:02d}"


def _parse_amount(text: str) -> int:
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None or len(text) > MAX_AMOUNT_LENGTH:
        raise BrCodeError(f"Malformed amount {text!r}.")
    reais, fraction = match.groups()
    # "10.5" means ten reais and fifty centavos: pad on the right, not the left.
    centavos = int(reais) * 100 + int((fraction or "0").ljust(2, "0"))
    if centavos <= 0:
        raise BrCodeError("The amount must be positive.")
    return centavos


def _unique(fields: list[tuple[str, str]], where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for field_id, value in fields:
        if field_id in values:
            raise BrCodeError(f"Field {field_id} appears twice in {where}.")
        values[field_id] = value
    return values


def _pix_account(fields: list[tuple[str, str]]) -> dict[str, str]:
    """The subfields of the merchant account template whose GUI is PIX's."""
    for field_id, value in fields:
        if field_id not in _MERCHANT_ACCOUNT_IDS:
            continue
        account = _unique(parse_tlv(value), f"field {field_id}")
        # Some generators write the GUI in upper case; the manual's example is lower case.
        if account.get(_ACCOUNT_GUI, "").lower() == PIX_GUI:
            return account
    raise BrCodeError("The BR Code has no PIX merchant account (GUI br.gov.bcb.pix).")
