import pytest
from pydantic import ValidationError

from app.config import DEVELOPMENT_JWT_SECRET, Settings


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
