"""`referral-exchange audit verify`, run as an operator would run it."""

import asyncio
import json

import pytest

from tests.factories import record_events
from tests.tampering import tamper
from tests.test_cli import run_cli


async def test_the_command_line_passes_an_intact_chain() -> None:
    await record_events(3)

    result = await asyncio.to_thread(run_cli, "audit", "verify")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("audit chain valid")
    assert "3 events" in result.stdout


@pytest.mark.parametrize(
    ("statement", "seq", "problem"),
    [
        ("UPDATE audit_events SET entity_id = 'changed' WHERE seq = 3", 3, "hash_mismatch"),
        ("DELETE FROM audit_events WHERE seq = 5", 5, "head_mismatch"),
    ],
)
async def test_the_command_line_names_the_first_bad_event(statement: str, seq: int, problem: str) -> None:
    await record_events(5)
    await tamper(statement)

    result = await asyncio.to_thread(run_cli, "audit", "verify")

    assert result.returncode == 1
    assert f"seq {seq}" in result.stdout
    assert problem in result.stdout
    as_json = await asyncio.to_thread(run_cli, "audit", "verify", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["first_invalid_seq"] == seq
