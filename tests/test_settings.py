from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEVELOPMENT_JWT_SECRET, Settings
from app.journal import keys, notes
from tests.test_cli import run_cli


def test_development_accepts_the_default_secret() -> None:
    settings = Settings(environment="development", jwt_secret=DEVELOPMENT_JWT_SECRET)
    assert settings.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET


@pytest.mark.parametrize("environment", ["production", "test"])
def test_default_secret_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        Settings(environment=environment, jwt_secret=DEVELOPMENT_JWT_SECRET)


def test_short_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", jwt_secret="too-short")


def test_sqlite_is_the_default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(environment="development", _env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite")


def test_development_makes_an_audit_signing_key_once_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "audit-key"
    settings = Settings(
        environment="development", audit_signing_key=None, audit_signing_key_file=str(path), _env_file=None
    )

    first, again = keys.signer(settings), keys.signer(settings)

    assert first.verifier == again.verifier
    assert keys.verifier(settings) == first.verifier
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_an_audit_key_is_required(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://referrals.example.org")
    secret = "x" * 40
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY"):
        Settings(environment=environment, jwt_secret=secret, _env_file=None)
    verifier = notes.new_signer("example.org/log").verifier.text()
    assert Settings(environment=environment, jwt_secret=secret, audit_verifier_key=verifier, _env_file=None)


def test_a_malformed_or_mismatched_audit_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY"):
        Settings(environment="development", audit_signing_key="PRIVATE+KEY+x+00000000+AAAA", _env_file=None)
    signer, other = notes.new_signer("example.org/log"), notes.new_signer("example.org/log")
    with pytest.raises(ValidationError, match="not the verifier key"):
        Settings(
            environment="development",
            audit_signing_key=signer.text(),
            audit_verifier_key=other.verifier.text(),
            _env_file=None,
        )


# Recognisable in any output: no error about the settings may show it. Pydantic shortened what it
# echoed to its first and last characters, so each case puts the secret last.
SECRET = "s3cr3tZ9"
SMTP_URL = f"smtp://relay:{SECRET}@mail.example"
SECRET_SETTINGS = [
    # A malformed key, refused by its own validator.
    ({"AUDIT_SIGNING_KEY": f"PRIVATE+KEY+x+00000000+{SECRET}"}, {}),
    # A valid password, echoed with every setting when another one is refused.
    ({"NOTIFY_BACKEND": "smtp", "SMTP_URL": SMTP_URL, "WEBHOOK_LEASE_SECONDS": "1"}, {}),
    # Too short outside development.
    ({}, {"metrics_token": SECRET}),
]


@pytest.mark.parametrize(("environ", "arguments"), SECRET_SETTINGS)
def test_a_settings_error_shows_no_value(
    environ: dict[str, str], arguments: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **arguments)  # type: ignore[arg-type]

    assert SECRET not in str(refused.value)
    assert SECRET not in repr(refused.value)


def test_the_command_line_reports_bad_settings_without_their_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for environ, _ in SECRET_SETTINGS:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("METRICS_TOKEN", SECRET)

    result = run_cli("migrate")

    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "AUDIT_SIGNING_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("public_base_url", [None, "http://referrals.example.org", "referrals.example.org"])
def test_production_needs_the_https_address_of_the_pages(
    public_base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    given = {"public_base_url": public_base_url} if public_base_url else {}

    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL must be set") as refused:
        Settings(environment="production", jwt_secret="x" * 40, _env_file=None, **given)  # type: ignore[arg-type]

    assert "referrals.example.org" not in str(refused.value)
    served = Settings(
        environment="production", jwt_secret="x" * 40, public_base_url="https://referrals.example.org"
    )
    assert served.public_base_url == "https://referrals.example.org"
