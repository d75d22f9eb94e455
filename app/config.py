"""Typed settings read from the environment (and an optional `.env` file)."""

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from app.journal.notes import NoteError, parse_signer, parse_verifier

# Publicly known, so usable only where nothing real is at stake.
DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789"  # noqa: S105
# A Fernet key (base64 of "development-only-key-change-me!!"), as public as the one above.
DEVELOPMENT_SECRETS_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktY2hhbmdlLW1lISE="

# Every kind of notification (one GOV.UK Notify template each).
NOTIFICATION_KINDS = (
    "new_referral",
    "referral_update",
    "message",
    "overdue_digest",
    "follow_up_due",
    "password_link",
)
# The weeks after an outcome at which a follow-up can be made (see FollowUpKind).
FOLLOW_UP_INTERVALS = frozenset({13, 26})

Environment = Literal["development", "test", "production"]

# The Redis addresses the rate limiter counts in, through redis-py (in the locked install).
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})


class Settings(BaseSettings):
    """Every knob the service reads; one instance per process via `get_settings()`."""

    # An error names the setting and what is wrong, never the value given: that may be a key, a
    # token or a password, and a refused start is printed to a terminal and kept in logs. (A
    # model validator's error used to echo every setting, shortened to its first and last
    # characters: the tail of whichever came last.)
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = "development"
    database_url: str = "sqlite+aiosqlite:///./referral_exchange.db"
    # Connections kept open per process. Above it, up to 10 more are opened and closed again
    # on return; a worker serving more requests at once than this keeps reconnecting and
    # re-preparing its statements.
    database_pool_size: int = 20
    database_max_overflow: int = Field(default=10, ge=0)
    # The longest a request waits for a database connection, pooled or new. Shorter than the
    # request deadline, so a request that cannot get one is still answered (503) in time.
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    database_echo: bool = False
    # The deployment's shape, for the connection budget (app/connection_budget.py): how many API
    # processes (every replica's `serve --workers` counted) and worker processes share the database
    # across all nodes, and the connections left for migrations, the command line, backups and
    # monitoring. `serve` and `worker` refuse to start when these cannot fit in max_connections.
    api_processes: int = Field(default=1, ge=1)
    worker_processes: int = Field(default=1, ge=0)
    database_spare_connections: int = Field(default=5, ge=0)
    # Behind PgBouncer (transaction pooling, 1.21 or later with max_prepared_statements): the
    # processes' connections are PgBouncer's clients, so max_connections is not theirs to fit.
    database_behind_pgbouncer: bool = False

    # A request not answered within this is cancelled and answered 503; its transaction is
    # rolled back, and the database itself cancels its statements and lock waits by then.
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    # Verifying the whole audit log reads every leaf (about 40 s for a million): its requests
    # get this deadline instead.
    audit_verify_timeout_seconds: float = Field(default=300.0, gt=0)
    # Sent as Retry-After with every 503 for a database that is down, stalled or busy.
    unavailable_retry_after_seconds: int = Field(default=5, ge=1)

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "referral-exchange"
    jwt_audience: str = "referral-exchange"
    # Fernet keys, comma-separated, for secrets kept encrypted at rest: the first encrypts, all decrypt.
    secrets_key: SecretStr = SecretStr(DEVELOPMENT_SECRETS_KEY)
    user_token_ttl_seconds: int = 15 * 60
    client_token_ttl_seconds: int = 60 * 60

    # How long one process trusts what it last read of an account (active, token version) before
    # reading it again: a user disabled or a client rotated through another process is refused
    # within this many seconds; through this process, at once.
    account_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    set_password_link_hours: int = Field(default=72, ge=1, le=24 * 14)
    # Where the staff web app is served; links in notifications point under it. Production
    # refuses to start without an https one (the default is a developer's machine).
    public_base_url: str = "http://127.0.0.1:8000"

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
    # RATE_LIMIT_STORAGE_URI at Redis (redis://host:6379) when serving with several processes.
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = 600
    token_rate_limit_per_minute: int = 20
    rate_limit_storage_uri: str = "memory://"
    # Kept apart from other users of the same Redis (another deployment, a staging copy).
    rate_limit_key_prefix: str = Field(default="referral-exchange", pattern=r"^[\w.:-]{1,64}$")
    # The longest one call to the shared store may take; past it the request is counted locally.
    rate_limit_storage_timeout_seconds: float = Field(default=0.5, gt=0, le=5)

    @model_validator(mode="after")
    def _rate_limit_storage_is_usable(self) -> "Settings":
        # Checked here so that a store the service cannot count with stops it at start, instead of
        # failing every request. The URI may hold a password: it is never repeated.
        problem = _rate_limit_store_problem(self.rate_limit_storage_uri)
        if problem:
            raise ValueError(f"RATE_LIMIT_STORAGE_URI {problem}")
        return self

    # Password sign-in for one account name is refused for LOGIN_LOCK_SECONDS once it has failed
    # LOGIN_LOCK_FAILURES times within LOGIN_LOCK_WINDOW_SECONDS, whatever address the tries came from.
    login_lock_failures: int = Field(default=10, ge=2)
    login_lock_window_seconds: int = Field(default=15 * 60, ge=1)
    login_lock_seconds: int = Field(default=15 * 60, ge=1)
    # Proxies whose X-Forwarded-For `serve` believes (comma-separated addresses or networks, `*`
    # for any). Empty: none, and the client address is the connection's.
    forwarded_allow_ips: str = ""

    # In production /docs, /redoc and /openapi.json are served only when this says so.
    public_api_docs: bool = False
    # The bearer token Prometheus sends to GET /metrics. Required in production (unset, every
    # scrape is refused there); elsewhere, unset leaves the endpoint open.
    metrics_token: SecretStr | None = None

    # Outbound webhooks. Private and loopback targets, and plain http outside development, are
    # refused unless allowed here (for tests and closed networks).
    webhook_allow_private_targets: bool = False
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_retry_base_seconds: float = 30.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_lease_seconds: float = 120.0
    # Deliveries claimed and sent together. A worker that dies mid-send leaves at most this many
    # to be sent again when their lease runs out (each is recorded as soon as it is answered).
    webhook_batch_size: int = Field(default=10, ge=1)
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

    # Notifications to staff: `log` writes them to the console, `smtp` sends email through
    # SMTP_URL, `govuk_notify` through GOV.UK Notify with one template id per kind, and optionally
    # one per kind and language (`new_referral:cy`) for a template with Welsh words of its own.
    notify_backend: Literal["log", "smtp", "govuk_notify"] = "log"
    smtp_url: SecretStr | None = None
    notify_from_address: str = "referrals@referral-exchange.example"
    notify_api_key: SecretStr | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_template_ids: dict[str, str] = Field(default_factory=dict)
    notify_timeout_seconds: float = 15.0
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_retry_base_seconds: float = 60.0
    notify_retry_max_seconds: float = 3600.0
    # As WEBHOOK_BATCH_SIZE: at most this many are sent again after a worker dies mid-send.
    notify_batch_size: int = Field(default=10, ge=1)
    # The hour (UTC) from which each day's digests are sent.
    notify_digest_hour: int = Field(default=7, ge=0, le=23)

    @model_validator(mode="after")
    def _backend_is_configured(self) -> "Settings":
        if self.notify_backend == "smtp" and self.smtp_url is None:
            raise ValueError("NOTIFY_BACKEND=smtp needs SMTP_URL")
        if self.notify_backend == "govuk_notify":
            # Every kind needs a template of its own; one per language (`kind:cy`) is optional.
            missing = sorted(set(NOTIFICATION_KINDS) - self.notify_template_ids.keys())
            if self.notify_api_key is None or missing:
                raise ValueError(
                    f"NOTIFY_BACKEND=govuk_notify needs NOTIFY_API_KEY and template ids for {missing}"
                )
        return self

    # Follow-ups: an outcome of a type named here has the agency that recorded it follow up this
    # many weeks after it happened (FOLLOW_UP_WEEKS as JSON, e.g. {"job_entry": [13, 26]}).
    follow_up_weeks: dict[str, list[int]] = Field(default_factory=lambda: {"job_entry": [13, 26]})
    # How often the worker looks for follow-ups falling due (to announce them).
    follow_up_announce_interval_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _follow_up_weeks_are_known(self) -> "Settings":
        # Imported here: the models import this module.
        from app.models.outcome import OutcomeType

        types = sorted(set(self.follow_up_weeks) - {t.value for t in OutcomeType})
        if types:
            raise ValueError(f"FOLLOW_UP_WEEKS: {types} are not outcome types")
        # Only these intervals have a follow-up kind of their own.
        unknown = sorted({w for weeks in self.follow_up_weeks.values() for w in weeks} - FOLLOW_UP_INTERVALS)
        if unknown:
            raise ValueError(f"FOLLOW_UP_WEEKS: no follow-up is made at {unknown} weeks (use 13 or 26)")
        return self

    # Staff pages. A signed-in session ends after this long without a request, and in any case
    # this long after sign-in; the warning page comes this many minutes before the idle end.
    web_idle_timeout_minutes: int = Field(default=30, ge=2)
    web_idle_warning_minutes: int = Field(default=2, ge=1)
    web_absolute_timeout_hours: int = Field(default=12, ge=1)
    # GOV.UK Frontend's `dist/govuk` folder (`make install` puts it under node_modules/).
    govuk_frontend_dir: Path = (
        Path(__file__).resolve().parent.parent / "node_modules/govuk-frontend/dist/govuk"
    )
    # Its styles compiled with the service's own fonts (`make install` puts them under build/).
    web_styles_dir: Path = Path(__file__).resolve().parent.parent / "build/styles"

    # The directory, published read-only as Open Referral UK at /openreferral/v3 to anyone (it
    # holds no personal data); false takes the feed down.
    public_directory: bool = True
    # Open Referral UK feeds (base URLs) or JSON files the worker imports every day, as JSON
    # (DIRECTORY_SOURCES='["https://example.org/openreferral/v3"]'), from DIRECTORY_REFRESH_HOUR UTC.
    directory_sources: list[str] = Field(default_factory=list)
    directory_refresh_hour: int = Field(default=3, ge=0, le=23)
    # Which taxonomy terms mean which purpose (unset: the mapping shipped with the service).
    directory_mapping_file: Path | None = None
    # An import reads at most this many list pages and services, each response at most this large,
    # and gives up on a response after this long.
    directory_import_max_pages: int = Field(default=200, ge=1)
    directory_import_max_services: int = Field(default=10_000, ge=1)
    directory_import_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    directory_import_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> "Settings":
        # A lease that ran out mid-send would let a second worker send the same delivery again.
        if self.webhook_lease_seconds <= 2 * self.webhook_timeout_seconds:
            raise ValueError("WEBHOOK_LEASE_SECONDS must be more than twice WEBHOOK_TIMEOUT_SECONDS")
        return self

    @model_validator(mode="after")
    def _pool_wait_within_the_deadline(self) -> "Settings":
        # The pool gives up first, so a shortage of connections is reported as one, in good time.
        if self.database_pool_timeout_seconds >= self.request_timeout_seconds:
            raise ValueError("DATABASE_POOL_TIMEOUT_SECONDS must be less than REQUEST_TIMEOUT_SECONDS")
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

    @model_validator(mode="after")
    def _usable_secrets_key(self) -> "Settings":
        keys = [key.strip() for key in self.secrets_key.get_secret_value().split(",") if key.strip()]
        if not keys or not all(_is_fernet_key(key) for key in keys):
            raise ValueError("SECRETS_KEY must be Fernet keys (Fernet.generate_key()), comma-separated")
        if self.environment != "development" and DEVELOPMENT_SECRETS_KEY in keys:
            raise ValueError("SECRETS_KEY must be set outside development; the default is public")
        return self

    @model_validator(mode="after")
    def _metrics_token_long_enough(self) -> "Settings":
        token = self.metrics_token.get_secret_value() if self.metrics_token else None
        if token is not None and self.environment != "development" and len(token) < 32:
            raise ValueError("METRICS_TOKEN must be at least 32 characters outside development")
        return self

    @model_validator(mode="after")
    def _production_pages_have_their_address(self) -> "Settings":
        # Set-password links and every notification's link are made from it: left at the
        # development default they would point at 127.0.0.1, and over http a link's token
        # would cross the network in the clear.
        if self.environment == "production" and not _is_https_address(self.public_base_url):
            raise ValueError(
                "PUBLIC_BASE_URL must be set in production, to the https address of the staff pages"
            )
        return self

    @property
    def api_docs_served(self) -> bool:
        return self.environment != "production" or self.public_api_docs

    @property
    def webhook_http_allowed(self) -> bool:
        return self.environment == "development" or self.webhook_allow_http

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS, everywhere but on a developer's machine."""
        return self.environment != "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _rate_limit_store_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    scheme = parts.scheme.removeprefix("async+")
    if scheme not in {"memory", *REDIS_SCHEMES}:
        return (
            "must be memory:// or a Redis address: redis://host:6379 "
            "(rediss:// for TLS, redis+unix:///path for a socket)"
        )
    if scheme in REDIS_SCHEMES and not importlib.util.find_spec("redis"):
        return "names Redis, but its client (the redis package) is not installed"
    try:
        parts.port  # noqa: B018 (read for the ValueError a port that is no number raises)
    except ValueError:
        return "has a port that is not a number"
    if scheme in {"redis", "rediss"} and not parts.hostname:
        return "names no Redis host (redis://host:6379)"
    return None


def _is_https_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and not (parts.query or parts.fragment)


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def settings_problems(exc: ValidationError | SettingsError) -> list[str]:
    """What is wrong with the settings, one line each, naming settings but showing no value."""
    if isinstance(exc, SettingsError):
        return [str(exc)]  # which setting could not be parsed, from which source; never its text
    return [_problem_line(error["loc"], error["msg"]) for error in exc.errors(include_input=False)]


def _problem_line(loc: tuple[int | str, ...], message: str) -> str:
    # A model validator's own message names its settings; a field's error is told by its name.
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(str(part) for part in loc).upper()}: {message}" if loc else message


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
