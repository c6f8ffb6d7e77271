"""Secrets encrypted at rest: round trip, rotation, and refusal of a foreign ciphertext."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.crypto import DecryptionError, decrypt, encrypt


def test_a_value_comes_back_and_is_not_stored_in_clear() -> None:
    token = encrypt("sk-live-123456")

    assert "sk-live-123456" not in token
    assert decrypt(token) == "sk-live-123456"
    assert encrypt("") == "" and decrypt("") == ""


def test_the_same_value_encrypts_differently_each_time() -> None:
    assert encrypt("same") != encrypt("same")


def test_an_old_key_still_decrypts_after_rotation(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = encrypt("secret")

    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    assert decrypt(token) == "secret"
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(DecryptionError):
        decrypt(token)


def test_any_long_string_works_as_a_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = ["not a fernet key but long enough to derive one"]

    assert decrypt(encrypt("value")) == "value"
