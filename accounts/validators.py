"""Validators for Brazilian documents and uploaded files."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_FORMATS = {"JPEG", "PNG", "WEBP"}


def cpf_digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def cpf_is_valid(value: str) -> bool:
    """Whether ``value`` (with or without punctuation) is a CPF with valid check digits."""
    digits = cpf_digits(value)
    if len(digits) != 11 or digits == digits[0] * 11:
        return False
    for position in (9, 10):
        total = sum(int(digits[i]) * (position + 1 - i) for i in range(position))
        check = (total * 10) % 11 % 10
        if check != int(digits[position]):
            return False
    return True


def validate_cpf(value: str) -> None:
    if not cpf_is_valid(value):
        raise ValidationError(_("Enter a valid CPF."), code="invalid_cpf")


def validate_document_image(upload: Any) -> None:
    """A JPEG, PNG or WebP image of at most 5 MB, checked by its content, not its name."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("The file is larger than 5 MB."), code="file_too_large")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError(
            _("Send a photo: JPEG, PNG or WebP."), code="unsupported_file_type"
        ) from exc
    finally:
        upload.seek(0)
    if image_format not in DOCUMENT_FORMATS:
        raise ValidationError(_("Send a photo: JPEG, PNG or WebP."), code="unsupported_file_type")
