"""The log's signing and verifier keys, from the settings (or, in development, a generated key file)."""

import contextlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from app.config import Settings
from app.journal.notes import Signer, Verifier, new_signer, parse_signer, parse_verifier


class KeyMissing(RuntimeError):
    """No key is configured for what this process was asked to do."""


def signer(settings: Settings) -> Signer:
    """The key checkpoints are signed with."""
    if settings.audit_signing_key is not None:
        return _parsed_signer(settings.audit_signing_key.get_secret_value())
    if settings.environment == "development":
        return _development_signer(Path(settings.audit_signing_key_file), settings.audit_log_origin)
    raise KeyMissing("AUDIT_SIGNING_KEY is not set; `referral-exchange audit keygen` makes one")


def verifier(settings: Settings) -> Verifier:
    """The key checkpoints are checked with: AUDIT_VERIFIER_KEY, or the signing key's own."""
    if settings.audit_verifier_key:
        return _parsed_verifier(settings.audit_verifier_key)
    return signer(settings).verifier


@lru_cache(maxsize=8)
def _parsed_signer(text: str) -> Signer:
    return parse_signer(text)


@lru_cache(maxsize=8)
def _parsed_verifier(text: str) -> Verifier:
    return parse_verifier(text)


def _development_signer(path: Path, name: str) -> Signer:
    """The key stored at `path`, made there first if there is none (every process then shares it)."""
    if not path.exists():
        _store_new_key(path, name)
    return _parsed_signer(path.read_text(encoding="ascii").strip())


def _store_new_key(path: Path, name: str) -> None:
    # Written aside, then linked into place: a process starting alongside reads a whole key or none.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".audit-key-", delete=False) as file:
        file.write(new_signer(name).text() + "\n")
    os.chmod(file.name, 0o600)
    with contextlib.suppress(FileExistsError):  # another process stored one first: theirs is used
        os.link(file.name, path)
    os.unlink(file.name)
