"""`referral-exchange audit verify|seal|keygen`, run as an operator would run them."""

import asyncio
import json
from pathlib import Path

import pytest

from app.config import get_settings
from app.db import get_sessionmaker
from app.journal import keys
from app.journal.notes import parse_signer, parse_verifier
from app.services import audit
from tests.support.factories import record_events, seal
from tests.support.tampering import forge_log, tamper
from tests.test_cli import run_cli


async def test_seal_then_verify_from_the_command_line() -> None:
    await record_events(3)

    sealed = await asyncio.to_thread(run_cli, "audit", "seal")
    result = await asyncio.to_thread(run_cli, "audit", "verify")

    assert sealed.returncode == 0, sealed.stderr
    assert "tree size 3" in sealed.stdout
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("audit log valid: 3 leaves, tree size 3")


@pytest.mark.parametrize(
    ("statement", "seq", "problem"),
    [
        ("UPDATE audit_events SET entity_id = 'changed' WHERE seq = 2", 2, "leaf_changed"),
        ("DELETE FROM audit_events WHERE seq = 4", 4, "leaf_missing"),
    ],
)
async def test_the_command_line_names_the_first_bad_leaf(statement: str, seq: int, problem: str) -> None:
    await record_events(5)
    await seal()
    await tamper(statement)

    result = await asyncio.to_thread(run_cli, "audit", "verify")

    assert result.returncode == 1
    assert f"at leaf {seq}" in result.stdout
    assert problem in result.stdout
    as_json = await asyncio.to_thread(run_cli, "audit", "verify", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["first_invalid_seq"] == seq


async def test_a_kept_checkpoint_catches_a_log_rewritten_and_signed_again(tmp_path: Path) -> None:
    await record_events(4)
    await seal()
    async with get_sessionmaker()() as session:
        kept = tmp_path / "checkpoint.txt"
        kept.write_text(await audit.latest_checkpoint(session), encoding="utf-8")
    await record_events(2)
    await seal()

    before = await asyncio.to_thread(run_cli, "audit", "verify", "--checkpoint", str(kept))
    await forge_log("UPDATE audit_events SET action = 'x' WHERE seq = 1", keys.signer(get_settings()))
    plain = await asyncio.to_thread(run_cli, "audit", "verify")
    after = await asyncio.to_thread(run_cli, "audit", "verify", "--checkpoint", str(kept))

    assert before.returncode == 0, before.stdout
    assert plain.returncode == 0, plain.stdout
    assert after.returncode == 1
    assert "kept_checkpoint_mismatch" in after.stdout


def test_keygen_prints_a_signing_key_and_its_verifier_key() -> None:
    result = run_cli("audit", "keygen", "--name", "example.org/log")

    assert result.returncode == 0, result.stderr
    private, public = result.stdout.splitlines()
    signer = parse_signer(private)
    assert signer.name == "example.org/log"
    assert parse_verifier(public) == signer.verifier
    assert public.startswith("example.org/log+")


def test_keygen_refuses_a_name_with_a_space() -> None:
    assert run_cli("audit", "keygen", "--name", "not a name").returncode != 0
