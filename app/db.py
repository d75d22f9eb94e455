"""Engine, session factory and the column types shared by every table."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from math import inf
from typing import Any

import asyncpg
from sqlalchemy import JSON, DateTime, Enum, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.types import TypeDecorator

from app.config import Settings, get_settings
from app.deadline import remaining
from app.logs import keep_personal_data_out_of_driver_logs
from app.unavailable import BROKEN, cause_of

# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere. Python None is SQL NULL.
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def enum_type(enum: type[StrEnum]) -> Enum:
    """Store an enum by its wire value as plain text, so adding a member needs no type change."""
    return Enum(
        enum,
        native_enum=False,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_time(at: datetime) -> str:
    """The one textual form of a stored timestamp: UTC, microseconds, `Z`."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")[:26] + "Z"


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware (naive UTC text on SQLite, which
    has no timezone type; see docs/architecture.md)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# How long a transaction outside any request (the worker, the command line) waits for SQLite's
# write lock; a request waits no longer than its deadline.
SQLITE_BUSY_TIMEOUT_MS = 30000


def _milliseconds_left(otherwise: int) -> int:
    """The current request's time left in whole milliseconds (at least 1), or `otherwise`."""
    left = remaining()
    return otherwise if left is None else max(1, int(left * 1000))


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: Callable[[], int]) -> None:
    """Make SQLite safe for concurrent writers: WAL, foreign keys, and BEGIN IMMEDIATE, so that writers
    queue on the busy timeout (set as each transaction begins) instead of failing at once."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={busy_timeout_ms()}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A connection returned to the pool this recently is handed out without a test query: the pool's
# own pre-ping costs three round trips on every checkout (docs/architecture.md).
IDLE_BEFORE_PING_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", -inf) < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc  # the pool replaces the connection
            raise


# A lock wait is cut a little before the statement would be, so that it is reported as what
# it is (lock_timeout, not statement_timeout).
LOCK_MARGIN_MS = 100


def _transaction_limits() -> str:
    """SET LOCAL statements that end the transaction's statements and lock waits at the deadline."""
    left = _milliseconds_left(0)
    if not left:
        return ""
    lock = max(1, left - LOCK_MARGIN_MS)
    return f" SET LOCAL statement_timeout = {left}; SET LOCAL lock_timeout = {lock};"


class DeadlineConnection(asyncpg.Connection):
    """An asyncpg connection whose transactions begun in a request end at the request's deadline,
    by SET LOCAL on the driver's own BEGIN (no extra round trip)."""

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109
        if not args and query.startswith("BEGIN"):
            query += _transaction_limits()
        status: str = await super().execute(query, *args, timeout=timeout)
        return status


def _discard_broken_connections(engine: AsyncEngine) -> None:
    """Invalidate a connection whose error shows it dead or its protocol out of step: the pool would
    keep it unless the driver reported it closed."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if cause_of(context.original_exception) in BROKEN:
            context.is_disconnect = True


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for `settings.database_url`, tuned for its dialect."""
    # Statements' parameters hold personal data: they are kept out of errors and logs.
    keep_personal_data_out_of_driver_logs()
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            hide_parameters=True,
            pool_timeout=settings.database_pool_timeout_seconds,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine, lambda: _milliseconds_left(SQLITE_BUSY_TIMEOUT_MS))
        return engine
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        hide_parameters=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_args={
            "server_settings": {"application_name": "referral-exchange"},
            "timeout": settings.database_pool_timeout_seconds,
            "connection_class": DeadlineConnection,
        },
    )
    _ping_when_idle(engine)
    _discard_broken_connections(engine)
    return engine


# The readiness probe's limits: connecting, waiting for a lock a write needs, any one statement.
PROBE_CONNECT_SECONDS, PROBE_LOCK_WAIT_MS, PROBE_STATEMENT_MS = 1.0, 500, 1000


def create_probe_engine(settings: Settings) -> AsyncEngine:
    """An engine for the readiness probe: a new connection each time, never one from the pool."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url, poolclass=NullPool, connect_args={"timeout": PROBE_LOCK_WAIT_MS / 1000}
        )
        _configure_sqlite(engine, lambda: PROBE_LOCK_WAIT_MS)
        return engine
    # Its lock and statement limits are set in its transaction (PROBE_LIMITS), not as startup
    # parameters, which PgBouncer refuses.
    return create_async_engine(
        settings.database_url,
        poolclass=NullPool,
        connect_args={
            "timeout": PROBE_CONNECT_SECONDS,
            "server_settings": {"application_name": "referral-exchange readiness"},
        },
    )


# What the probe's transaction may wait for a lock, and take for any one statement, on PostgreSQL.
PROBE_LIMITS = (
    f"SELECT set_config('lock_timeout', '{PROBE_LOCK_WAIT_MS}', true),"
    f" set_config('statement_timeout', '{PROBE_STATEMENT_MS}', true)"
)


@lru_cache
def get_engine() -> AsyncEngine:
    """The process-wide engine."""
    return create_engine(get_settings())


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The process-wide session factory; objects stay usable after commit."""
    return async_sessionmaker(get_engine(), expire_on_commit=False)


@lru_cache
def get_probe_engine() -> AsyncEngine:
    """The process-wide readiness probe engine (it holds no connections)."""
    return create_probe_engine(get_settings())


async def dispose_engine() -> None:
    """Close pooled connections and forget the cached engines (shutdown and tests)."""
    if get_engine.cache_info().currsize:
        await get_engine().dispose()
    get_sessionmaker.cache_clear()
    get_engine.cache_clear()
    get_probe_engine.cache_clear()
