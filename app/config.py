"""Typed settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.journal.notes import NoteError, parse_signer, parse_verifier

# Publicly known, so usable only where nothing real is at stake.
DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789"  # noqa: S105

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    """Every knob the service reads; one instance per process via `get_settings()`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = "development"
    database_url: str = "sqlite+aiosqlite:///./referral_exchange.db"
    # Connections kept open per process. Above it, up to 10 more are opened and closed again
    # on return; a worker serving more requests at once than this keeps reconnecting and
    # re-preparing its statements.
    database_pool_size: int = 20
    database_echo: bool = False

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "referral-exchange"
    jwt_audience: str = "referral-exchange"
    user_token_ttl_seconds: int = 15 * 60
    client_token_ttl_seconds: int = 60 * 60

    # Argon2id cost; the defaults follow RFC 9106's second recommended option.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536

    idempotency_ttl_hours: int = 48
    # A person's details are anonymised once all their referrals have been closed this long.
    retention_days: int = Field(default=730, ge=1)
    # How often a long-running worker applies retention and purges expired idempotency keys (0: never).
    maintenance_interval_seconds: int = Field(default=3600, ge=0)
    max_page_size: int = 200
    default_page_size: int = 50

    # Larger request bodies get 413; no legitimate request comes near 64 KiB.
    max_body_bytes: int = 64 * 1024
    # Per-client request budgets. The default in-memory storage counts per process; point
    # RATE_LIMIT_STORAGE_URI at a shared store (e.g. redis://host:6379) when serving with
    # several processes.
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = 600
    token_rate_limit_per_minute: int = 20
    rate_limit_storage_uri: str = "memory://"

    # Outbound webhooks. Private and loopback targets, and plain http outside development, are
    # refused unless allowed here (for tests and closed networks).
    webhook_allow_private_targets: bool = False
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_retry_base_seconds: float = 30.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_lease_seconds: float = 120.0
    webhook_batch_size: int = 50
    webhook_poll_interval_seconds: float = 2.0

    # The transparency log. Checkpoints name the log by its origin and are signed with a C2SP
    # signed-note Ed25519 key (`referral-exchange audit keygen`). A process that does not seal
    # may be given only the verifier key. In development a key is made and kept in a file.
    audit_log_origin: str = Field(default="referral-exchange.localhost/audit", pattern=r"^[^\s+]+$")
    audit_signing_key: SecretStr | None = None
    audit_verifier_key: str | None = None
    audit_signing_key_file: str = ".audit-signing-key"
    # How often a running worker seals committed audit events: the log's maximum merge delay.
    audit_seal_interval_seconds: float = Field(default=1.0, gt=0)
    audit_seal_batch_size: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _audit_keys_are_usable(self) -> "Settings":
        # Parsed here so a malformed key stops the process at start, not at its first seal.
        try:
            signer = (
                parse_signer(self.audit_signing_key.get_secret_value()) if self.audit_signing_key else None
            )
            verifier = parse_verifier(self.audit_verifier_key) if self.audit_verifier_key else None
        except NoteError as exc:
            raise ValueError(f"AUDIT_SIGNING_KEY or AUDIT_VERIFIER_KEY: {exc}") from None
        if signer and verifier and signer.verifier != verifier:
            raise ValueError("AUDIT_VERIFIER_KEY is not the verifier key of AUDIT_SIGNING_KEY")
        if not (signer or verifier or self.environment == "development"):
            raise ValueError(
                "AUDIT_SIGNING_KEY (or, where nothing is sealed, AUDIT_VERIFIER_KEY) must be set"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> "Settings":
        # A lease that ran out mid-send would let a second worker send the same delivery again.
        if self.webhook_lease_seconds <= 2 * self.webhook_timeout_seconds:
            raise ValueError("WEBHOOK_LEASE_SECONDS must be more than twice WEBHOOK_TIMEOUT_SECONDS")
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "Settings":
        if self.environment == "development":
            return self
        secret = self.jwt_secret.get_secret_value()
        if secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set outside development; the default is public")
        if len(secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters outside development")
        return self

    @property
    def webhook_http_allowed(self) -> bool:
        return self.environment == "development" or self.webhook_allow_http

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
