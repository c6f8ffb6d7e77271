"""PIX keys (chaves): checking what a person typed and writing it the way the DICT stores it.

The DICT (the Banco Central's key directory) matches keys byte for byte, so a key typed as
"529.982.247-25" or "(11) 98765-4321" must be reduced to "52998224725" or "+5511987654321"
before it goes into a payout or a BR Code. Checking the check digits here catches most typos
before a PSP round trip does, and before money goes to a stranger whose key differs by one
digit.

``mask_pix_key`` gives the form to show in lists and to write in logs: enough to recognise
one's own key, not enough to reconstruct someone else's CPF or phone number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = ["InvalidPixKey", "PixKeyType", "mask_pix_key", "normalize_pix_key"]

# The DICT's limit for e-mail keys.
MAX_EMAIL_LENGTH = 77

# Anatel's area codes (DDD). Listing them, rather than accepting any two digits without a
# zero, catches typos such as 20 or 52, numbers that reach no phone in Brazil.
AREA_CODES = frozenset(
    {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28}
    | {31, 32, 33, 34, 35, 37, 38, 41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55}
    | {61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77, 79}
    | {81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99}
)

_CPF_SEPARATORS = re.compile(r"[.\-\s]")
_CNPJ_SEPARATORS = re.compile(r"[./\-\s]")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_CPF = re.compile(r"\d{11}")
# Since July 2026 the Receita Federal also issues alphanumeric CNPJs: letters may appear in
# the first twelve characters; the two check digits stay digits.
_CNPJ = re.compile(r"[0-9A-Z]{12}\d{2}")
# +55, a DDD, and a mobile number: nine digits starting with 9.
_PHONE = re.compile(r"\+55(\d{2})(9\d{8})")
_RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_CPF_FIRST_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_CPF_SECOND_WEIGHTS = (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_SECOND_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)

_email_validator = EmailValidator()


class PixKeyType(models.TextChoices):
    """The five kinds of key the DICT registers."""

    CPF = "cpf", gettext_lazy("CPF")
    CNPJ = "cnpj", gettext_lazy("CNPJ")
    EMAIL = "email", gettext_lazy("E-mail")
    PHONE = "phone", gettext_lazy("Mobile phone")
    RANDOM = "random", gettext_lazy("Random key")


class InvalidPixKey(ValueError):  # noqa: N818 -- the agreed public name
    """The key is not a valid key of its type; the message is translated, for people."""


def normalize_pix_key(key_type: str, key: str) -> str:
    """Return ``key`` as the DICT stores it, or raise InvalidPixKey saying what is wrong.

    CPF and CNPJ lose their punctuation, e-mails and random keys are lower-cased, phones become
    ``+55DDNNNNNNNNN``. Surrounding whitespace is ignored for every type.
    """
    key = key.strip()
    if not key:
        raise InvalidPixKey(_("Enter a PIX key."))
    if key_type == PixKeyType.CPF:
        return _normalize_cpf(key)
    if key_type == PixKeyType.CNPJ:
        return _normalize_cnpj(key)
    if key_type == PixKeyType.EMAIL:
        return _normalize_email(key)
    if key_type == PixKeyType.PHONE:
        return _normalize_phone(key)
    if key_type == PixKeyType.RANDOM:
        return _normalize_random(key)
    raise InvalidPixKey(_("Unknown PIX key type."))


def mask_pix_key(key_type: str, key: str) -> str:
    """Return the key with most of it hidden, for display and logs.

    A key that does not validate is masked entirely: it may be anything, a password pasted
    into the wrong field included.
    """
    try:
        key = normalize_pix_key(key_type, key)
    except InvalidPixKey:
        return "***"
    if key_type == PixKeyType.CPF:
        # The middle six digits, as the government's own portals show a CPF.
        return f"***.{key[3:6]}.{key[6:9]}-**"
    if key_type == PixKeyType.CNPJ:
        return f"**.{key[2:5]}.{key[5:8]}/{key[8:12]}-**"
    if key_type == PixKeyType.EMAIL:
        local, domain = key.rsplit("@", 1)
        return f"{local[0]}***@{domain}"
    if key_type == PixKeyType.PHONE:
        return f"+55 {key[3:5]} {key[5]}****-{key[-4:]}"
    return f"{key[:8]}…"


def _normalize_cpf(key: str) -> str:
    digits = _CPF_SEPARATORS.sub("", key)
    if not _CPF.fullmatch(digits):
        raise InvalidPixKey(_("A CPF has 11 digits."))
    # 111.111.111-11 and its kin pass the check digits but were never issued.
    if len(set(digits)) == 1 or digits[9:] != _check_digits(
        digits[:9], _CPF_FIRST_WEIGHTS, _CPF_SECOND_WEIGHTS
    ):
        raise InvalidPixKey(_("This CPF is not valid: check the digits."))
    return digits


def _normalize_cnpj(key: str) -> str:
    characters = _CNPJ_SEPARATORS.sub("", key).upper()
    if not _CNPJ.fullmatch(characters):
        raise InvalidPixKey(_("A CNPJ has 14 characters."))
    if len(set(characters)) == 1 or characters[12:] != _check_digits(
        characters[:12], _CNPJ_FIRST_WEIGHTS, _CNPJ_SECOND_WEIGHTS
    ):
        raise InvalidPixKey(_("This CNPJ is not valid: check the digits."))
    return characters


def _check_digits(body: str, first_weights: Sequence[int], second_weights: Sequence[int]) -> str:
    """The two modulo-11 check digits of a CPF or CNPJ body.

    Each character counts as its ASCII code minus 48: digits keep their value, and the
    letters of alphanumeric CNPJs count from A = 17, as the Receita Federal specifies.
    """
    first = _modulo_11(body, first_weights)
    second = _modulo_11(body + first, second_weights)
    return first + second


def _modulo_11(body: str, weights: Sequence[int]) -> str:
    remainder = sum((ord(char) - 48) * weight for char, weight in zip(body, weights, strict=True))
    remainder %= 11
    return "0" if remainder < 2 else str(11 - remainder)


def _normalize_email(key: str) -> str:
    email = key.lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidPixKey(
            _("An e-mail PIX key has at most %(limit)d characters.") % {"limit": MAX_EMAIL_LENGTH}
        )
    try:
        _email_validator(email)
    except ValidationError:
        raise InvalidPixKey(_("Enter a valid e-mail address.")) from None
    return email


def _normalize_phone(key: str) -> str:
    number = _PHONE_SEPARATORS.sub("", key)
    # People type the number as they dial it at home, with or without the country code.
    if number.isdigit() and len(number) == 11:
        number = "+55" + number
    elif number.isdigit() and len(number) == 13:
        number = "+" + number
    match = _PHONE.fullmatch(number)
    if match is None:
        raise InvalidPixKey(
            _("Enter a Brazilian mobile number: area code and 9 digits starting with 9.")
        )
    if int(match.group(1)) not in AREA_CODES:
        raise InvalidPixKey(_("This area code (DDD) does not exist."))
    return number


def _normalize_random(key: str) -> str:
    random_key = key.lower()
    if not _RANDOM.fullmatch(random_key):
        raise InvalidPixKey(
            _("A random key has 36 characters: 32 hexadecimal digits and 4 hyphens.")
        )
    return random_key
