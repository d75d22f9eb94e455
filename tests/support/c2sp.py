"""C2SP signed-note and tlog-checkpoint, read as their specifications say, apart from app/journal."""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class Head:
    origin: str
    size: int
    root: bytes


def read_verifier_key(vkey: str) -> tuple[str, bytes, bytes]:
    """`<name>+<hex key id>+<base64(0x01 || public key)>`: the name, key id and public key, checked."""
    name, key_id, encoded = vkey.strip().split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01, "an Ed25519 key"
    assert len(raw) == 33, "a 32-byte public key"
    expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert bytes.fromhex(key_id) == expected, "key id = SHA-256(name || 0x0A || 0x01 || key)[:4]"
    return name, expected, raw[1:]


def open_checkpoint(note: str, vkey: str) -> Head:
    """The tree head of a checkpoint note, whose signature by `vkey` must verify."""
    name, key_id, public_key = read_verifier_key(vkey)
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    verified = False
    for line in signatures.splitlines():
        signer, encoded = line.removeprefix("\u2014 ").split(" ")
        raw = base64.b64decode(encoded)
        if signer == name and raw[:4] == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], text.encode())
                verified = True
            except InvalidSignature:
                return Head("", -1, b"")
    assert verified, "no signature by the key"
    origin, size, root = text.rstrip("\n").split("\n")[:3]
    return Head(origin, int(size), base64.b64decode(root))
