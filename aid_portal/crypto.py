"""Sensitive fields encrypted at rest, with a keyed hash beside them for exact lookup.

Identity numbers, bank accounts and health notes are stored as Fernet tokens
(AES-128-CBC with HMAC, from the ``cryptography`` package); a token differs on every
save, so equality lookups use the HMAC-SHA256 *blind index* stored beside the value.
Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first: older
ones still decrypt, which is how keys are rotated) and FIELD_HASH_KEY. In development
both are generated once into the data folder.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "a sensitive field could not be decrypted with the configured keys"
        ) from None


def blind_index(value: str) -> str:
    """A keyed hash for exact lookup of an encrypted value (same value, same hash)."""
    return hmac.new(settings.FIELD_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text field stored encrypted. Not searchable: pair it with a blind-index field."""

    def from_db_value(self, value, expression, connection):
        return value if not value else decrypt(value)

    def get_prep_value(self, value):
        # An empty value stays empty: that a family gave no account is not a secret.
        value = super().get_prep_value(value)
        return value if not value else encrypt(value)
