"""Secrets the service must read back (webhook signing secrets) kept encrypted at rest.

They are encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`) under the
keys in SECRETS_KEY, comma-separated: the first encrypts, every one decrypts. To rotate, put a
new key first and keep the old ones after it, run `referral-exchange secrets rotate` to
re-encrypt everything under the new key, then drop the old ones.

Other uses of the same secret (the event feed's cursors) take keys derived from these, one per
purpose, and rotate with them.
"""

import base64
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.config import get_settings


class UndecryptableSecret(Exception):
    """A stored secret none of the keys in SECRETS_KEY decrypts: the key it was written under is missing."""


def keys_of(setting: str) -> MultiFernet:
    """The keys SECRETS_KEY names, first one first; ValueError for a malformed key."""
    return MultiFernet([Fernet(key.strip()) for key in setting.split(",") if key.strip()])


@lru_cache
def _keys(setting: str) -> MultiFernet:
    return keys_of(setting)


def _current() -> MultiFernet:
    return _keys(get_settings().secrets_key.get_secret_value())


def derived_keys(purpose: str, length: int) -> tuple[bytes, ...]:
    """A key of `length` bytes for `purpose` from each key in SECRETS_KEY, first one first.

    Derived with HKDF, so each purpose has a key of its own that reveals nothing of the others
    or of the Fernet keys, and is the same in every process given the same SECRETS_KEY.
    """
    return _derived(get_settings().secrets_key.get_secret_value(), purpose, length)


@lru_cache
def _derived(setting: str, purpose: str, length: int) -> tuple[bytes, ...]:
    return tuple(
        HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
            base64.urlsafe_b64decode(key.strip())
        )
        for key in setting.split(",")
        if key.strip()
    )


def encrypt(plaintext: str) -> str:
    """`plaintext` encrypted under the first key."""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of a stored secret, under whichever key it was written."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret("A stored secret does not decrypt with any key in SECRETS_KEY.") from None


class EncryptedText(TypeDecorator[str]):
    """Text encrypted on the way into the database and decrypted on the way out."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(str(value))
