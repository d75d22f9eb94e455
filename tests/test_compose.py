"""compose.yaml, read as Docker Compose would (Docker cannot run here): its services, the commands
they run against the command line's, their settings against the service's own checks in
production, and the connection budget against the PostgreSQL it starts."""

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from cryptography.fernet import Fernet

from app import connection_budget
from app.cli import cli
from app.config import Settings
from app.journal import notes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: service for name, service in SERVICES.items() if service.get("build") == "."}
VARIABLE = re.compile(r"\$\{(\w+)(:[?-])([^}]*)\}")
SIGNER = notes.new_signer("referrals.example.gov.uk/audit")
# What an operator's .env holds, made up here.
DOT_ENV = {
    "POSTGRES_PASSWORD": "a-database-password",
    "JWT_SECRET": "j" * 48,
    "SECRETS_KEY": Fernet.generate_key().decode(),
    "AUDIT_SIGNING_KEY": SIGNER.text(),
    "AUDIT_VERIFIER_KEY": SIGNER.verifier.text(),
    "METRICS_TOKEN": "m" * 48,
    "PUBLIC_BASE_URL": "https://referrals.example.gov.uk",
    "AUDIT_LOG_ORIGIN": "referrals.example.gov.uk/audit",
}


def interpolated(value: str) -> str:
    """`${NAME:?message}` and `${NAME:-default}` as Compose fills them in from the .env file."""
    return VARIABLE.sub(lambda m: DOT_ENV[m[1]] if m[2] == ":?" else DOT_ENV.get(m[1], m[3]), value)


def subcommands() -> dict[str, Any]:
    """The command line's commands by name, as `referral-exchange --help` lists them."""
    commands: dict[str, Any] = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    return commands


def settings_of(service: str) -> Settings:
    """The settings the service's processes would read from the environment Compose gives them."""
    environment = {key: interpolated(str(value)) for key, value in OURS[service]["environment"].items()}
    return Settings(_env_file=None, **{key.lower(): value for key, value in environment.items()})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def only_composes_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test run's own settings (its signing key, its database) are not the containers'.
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)


def test_two_api_servers_two_workers_postgresql_redis_and_one_migration() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api-1", "api-2", "worker-1", "worker-2"}
    assert [s["command"][1] for s in OURS.values()] == ["migrate", "serve", "serve", "worker", "worker"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_runs_a_command_the_command_line_has(name: str) -> None:
    program, subcommand, *options = OURS[name]["command"]
    assert program == "referral-exchange"
    known = subcommands()[subcommand]
    flags = {flag for param in known.params for flag in param.opts}
    assert {option for option in options if option.startswith("--")} <= flags


@pytest.mark.parametrize("name", sorted(set(OURS) - {"migrate"}))
def test_servers_and_workers_start_after_the_migration_and_the_stores(name: str) -> None:
    conditions = {service: after["condition"] for service, after in OURS[name]["depends_on"].items()}
    assert conditions == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_process_gets_settings_production_accepts(name: str) -> None:
    fields = {field.upper() for field in Settings.model_fields}
    assert set(OURS[name]["environment"]) <= fields, "a variable the service does not read"

    settings = settings_of(name)

    assert settings.environment == "production"
    assert (settings.audit_signing_key is not None) == name.startswith("worker")
    assert settings.rate_limit_storage_uri.startswith("redis://redis:")


def test_every_secret_must_be_given_none_silently_empty() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    required = {m[1] for m in VARIABLE.finditer(text) if m[2] == ":?"}
    assert required == set(DOT_ENV)


def test_the_deployment_fits_the_postgresql_it_starts() -> None:
    serving = sum(s["command"][1] == "serve" for s in OURS.values())
    working = sum(s["command"][1] == "worker" for s in OURS.values())
    settings = settings_of("api-1")
    arguments = SERVICES["postgres"]["command"]
    max_connections = int(next(a.split("=")[1] for a in arguments if a.startswith("max_connections=")))

    assert (settings.api_processes, settings.worker_processes) == (serving, working)
    assert connection_budget.refusal(settings, max_connections, reserved=3) is None
