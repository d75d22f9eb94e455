"""A search typed on a list page, kept out of the address bar, access logs and browser history.

A name typed into the inbox's search is personal data, and an address is written to access logs,
proxies' logs, browser history and Referer headers. The search form is posted instead, and the
list it leads to carries the term sealed: encrypted and authenticated (AES-GCM under a key derived
from SECRETS_KEY) with the user's id, so it is unreadable in any log, opens for no one else and
expires with the longest session. Sort and page links carry the sealed term, so they stay plain
links that work without JavaScript.
"""

import base64
import binascii
import os
import struct
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.config import get_settings
from app.encryption import derived_keys

_PURPOSE = "web-search-term-v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12
# Terms are padded to a multiple of this, so a sealed term's length hardly tells one from another.
_BLOCK = 32
LONGEST_TERM = 100


def seal(term: str, user_id: str) -> str:
    """The term, sealed for this user to send back in a link."""
    plain = struct.pack(">I", int(time.time())) + term[:LONGEST_TERM].encode()
    plain += b"\x00" * (-len(plain) % _BLOCK)
    nonce = os.urandom(_NONCE_BYTES)
    key = derived_keys(_PURPOSE, _KEY_BYTES)[0]
    sealed = nonce + AESGCM(key).encrypt(nonce, plain, user_id.encode())
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(sealed: str | None, user_id: str) -> str | None:
    """The term a link carries, if it was sealed for this user and has not expired."""
    raw = _decoded(sealed) if sealed else None
    if raw is None or len(raw) <= _NONCE_BYTES:
        return None
    for key in derived_keys(_PURPOSE, _KEY_BYTES):  # the first key seals; older ones still open
        try:
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], user_id.encode())
        except InvalidTag:
            continue
        return _fresh(plain)
    return None


def _decoded(sealed: str) -> bytes | None:
    try:
        return base64.b64decode(sealed + "=" * (-len(sealed) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _fresh(plain: bytes) -> str | None:
    (sealed_at,) = struct.unpack(">I", plain[:4])
    if time.time() - sealed_at > get_settings().web_absolute_timeout_hours * 3600:
        return None
    return plain[4:].rstrip(b"\x00").decode(errors="replace") or None
