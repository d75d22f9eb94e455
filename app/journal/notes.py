"""C2SP signed notes with Ed25519 keys, and the C2SP tlog-checkpoint body they carry; the key
formats are the Go `note` package's (docs/architecture.md, Checkpoints)."""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
PRIVATE_PREFIX = "PRIVATE+KEY+"


class NoteError(ValueError):
    """A key, note or checkpoint that is malformed or does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The note text: origin, tree size and base64 root hash, each on its own line."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError("a key name must be non-empty, without spaces or '+'")
    return name


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("not standard base64") from None


@dataclass(frozen=True, slots=True)
class Verifier:
    name: str
    public_key: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verify(self, text: str, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode())
        except InvalidSignature:
            return False
        return True


def parse_verifier(text: str) -> Verifier:
    """A verifier key from its text form, checking its key id."""
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("not an Ed25519 verifier key")
    verifier = Verifier(_check_name(name), raw[1:])
    if verifier.id.hex() != hex_id.lower():
        raise NoteError("the verifier key's id does not match its name and key")
    return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def text(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(ED25519 + seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier.id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """The signed note: the text, a blank line and this key's signature line."""
        signature = base64.b64encode(self.verifier.id + self.private_key.sign(text.encode())).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {signature}\n"


def new_signer(name: str) -> Signer:
    return Signer(_check_name(name), Ed25519PrivateKey.generate())


def parse_signer(text: str) -> Signer:
    """A signer key from its text form (`PRIVATE+KEY+name+id+base64`), checking its key id."""
    if not text.startswith(PRIVATE_PREFIX):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    name, hex_id, encoded = [*text.strip().removeprefix(PRIVATE_PREFIX).split("+", 2), "", ""][:3]
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("not an Ed25519 signer key")
    signer = Signer(_check_name(name), Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.verifier.id.hex() != hex_id.lower():
        raise NoteError("the signer key's id does not match its name and key")
    return signer


def open_note(note: str, verifier: Verifier) -> str:
    """The text of a note that `verifier` signed; NoteError unless its signature verifies."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not note.endswith("\n"):
        raise NoteError("not a signed note")
    text += "\n"
    for line in signatures.splitlines():
        if _signed_by(line, text, verifier):
            return text
    raise NoteError(f"not signed by the key {verifier.name}+{verifier.id.hex()}")


def _signed_by(line: str, text: str, verifier: Verifier) -> bool:
    """Whether a signature line is `verifier`'s and verifies; a failing one of its own is refused."""
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    if not line.startswith(SIGNATURE_PREFIX) or name != verifier.name:
        return False
    raw = _b64decode(encoded)
    if raw[:4] != verifier.id:
        return False
    if not verifier.verify(text, raw[4:]):
        raise NoteError(f"the signature of {name} does not verify")
    return True


def parse_checkpoint(text: str) -> Checkpoint:
    """The origin, tree size and root hash of a checkpoint's note text."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise NoteError("a checkpoint has an origin, a tree size and a root hash, one per line")
    origin, size, root = lines[0], lines[1], _b64decode(lines[2])
    if not size.isdigit() or (size.startswith("0") and size != "0") or len(root) != 32:
        raise NoteError("a checkpoint's tree size is a decimal number and its root hash 32 bytes")
    return Checkpoint(origin, int(size), root)


def open_checkpoint(note: str, verifier: Verifier, origin: str) -> Checkpoint:
    """A checkpoint signed by `verifier` for the log named `origin`, or NoteError."""
    checkpoint = parse_checkpoint(open_note(note, verifier))
    if checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for the log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
