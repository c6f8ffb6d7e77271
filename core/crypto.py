"""Secrets kept encrypted at rest (provider API keys an organization gives us).

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``. The keys come from
``settings.FIELD_ENCRYPTION_KEYS``: the first encrypts, all of them decrypt, so a key is
rotated by putting the new one first and re-saving the rows (``manage.py`` shell or a
migration). Without the setting a key is derived from ``SECRET_KEY``, which is enough for the
embedded default but ties the ciphertexts to that secret.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """The stored value cannot be read with any configured key."""


def _fernet_key(secret: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(secret.encode())
    except (ValueError, TypeError):
        raw = b""
    if len(raw) == 32:
        return secret.encode()
    # Not a Fernet key: derive one (so any long random string works as a key).
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


@cache
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def _keys() -> tuple[str, ...]:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    return keys or (f"atende-field-encryption:{settings.SECRET_KEY}",)


def encrypt(plaintext: str) -> str:
    """The ciphertext of ``plaintext`` (ASCII, safe for a TextField). "" stays ""."""
    if not plaintext:
        return ""
    return _cipher(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """The plaintext of a value from ``encrypt``; DecryptionError if no key opens it."""
    if not ciphertext:
        return ""
    try:
        return _cipher(_keys()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("The value cannot be decrypted with the configured keys.") from exc
