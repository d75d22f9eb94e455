"""The command line, run as a user would run it, against this run's database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seed_demo_is_idempotent_and_its_logins_are_complete(database_url: str) -> None:
    first = run_cli("seed-demo", "--json")
    second = run_cli("seed-demo", "--json")

    assert first.returncode == 0, first.stderr
    network, again = json.loads(first.stdout), json.loads(second.stdout)
    assert [a["id"] for a in network["agencies"]] == [a["id"] for a in again["agencies"]]
    kinds = {a["kind"] for a in network["agencies"]}
    assert kinds == {
        "jobcentre_plus",
        "childrens_centre",
        "communities_first",
        "health_visiting",
        "debt_advice",
    }
    roles = sorted(u["role"] for u in network["users"])
    assert roles == ["agency_admin"] * 5 + ["auditor"] + ["caseworker"] * 10 + ["platform_admin"]
    usernames = {u["username"] for u in network["users"]}
    for slug in ("jcp", "cc", "cf", "hv", "debt"):
        assert {f"{slug}.caseworker", f"{slug}.caseworker2", f"{slug}.admin"} <= usernames
    assert len(network["clients"]) == 5
    assert all({"client_id", "client_secret", "agency_id", "scopes"} <= c.keys() for c in network["clients"])
    assert all({"username", "password", "agency_id", "role"} <= u.keys() for u in network["users"])


@pytest.mark.usefixtures("database_url")
def test_create_client_prints_a_secret_once() -> None:
    result = run_cli("create-client", "--name", "Case system", "--scope", "referrals:read")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["client_id"].startswith("rxc_")
    assert created["client_secret"].startswith("rxs_")


@pytest.mark.usefixtures("database_url")
def test_create_admin_refuses_agency_roles() -> None:
    result = run_cli("create-admin", "--username", "x", "--password", "y", "--role", "caseworker")
    assert result.returncode != 0


def test_export_openapi_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    result = run_cli("export-openapi", "--output", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert "/v1/oauth/token" in document["paths"]
