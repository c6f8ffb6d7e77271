"""Phone numbers as the CRM stores them: E.164 ("+5511999998888").

Everything that takes a phone from a person (forms, imports, BotConversa) goes through
``normalize_phone`` so duplicates are found by plain equality.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

# Longest E.164 number is 15 digits plus the "+".
MAX_INPUT_LENGTH = 40


class InvalidPhoneError(ApplicationError):
    code = "crm.invalid_phone"
    status_code = 422


def invalid_phone() -> InvalidPhoneError:
    return InvalidPhoneError(_("Enter a valid phone number."))


def normalize_phone(raw: str | None, region: str = "BR") -> str:
    """The number in E.164, "" for an empty value; 422 ``crm.invalid_phone`` for junk.

    A number without a country code is read as one of ``region`` (Brazil by default).
    """
    text = (raw or "").strip()
    if not text:
        return ""
    if len(text) > MAX_INPUT_LENGTH:
        raise invalid_phone()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise invalid_phone() from None
    if not phonenumbers.is_valid_number(parsed):
        raise invalid_phone()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_or_blank(raw: str | None, region: str = "BR") -> str:
    """Like ``normalize_phone`` but "" for junk: for matching numbers others typed."""
    try:
        return normalize_phone(raw, region)
    except InvalidPhoneError:
        return ""
