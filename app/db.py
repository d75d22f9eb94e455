"""Engine, session factory and the column types shared by every table."""

import time
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from math import inf
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app.config import Settings, get_settings
from app.logs import keep_personal_data_out_of_driver_logs

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
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no timezone type, so values are stored there as naive UTC text in a fixed
    format, which keeps ordering and range comparisons correct.
    """

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


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite safe for concurrent writers: WAL, foreign keys, and BEGIN IMMEDIATE.

    A deferred transaction that later tries to write fails at once with "database is
    locked" when another writer is active; taking the write lock at BEGIN makes writers
    queue on the busy timeout instead, so read-check-write sequences are serialised.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A connection returned to the pool this recently is handed out without a test query. The
# pool's own pre-ping costs the asyncpg driver three round trips (BEGIN, an empty query,
# ROLLBACK) on every checkout, a third of a new referral's; a connection idle for longer,
# which a database restart or a network timeout may have closed, is still tested and
# replaced if dead. A connection lost in between fails one request, and the pool is
# refreshed as the failure is seen.
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


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for `settings.database_url`, tuned for its dialect."""
    # Statements' parameters hold personal data: they are kept out of errors and logs.
    keep_personal_data_out_of_driver_logs()
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            hide_parameters=True,
            connect_args={"timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        hide_parameters=True,
        pool_size=settings.database_pool_size,
        connect_args={"server_settings": {"application_name": "referral-exchange"}},
    )
    _ping_when_idle(engine)
    return engine


@lru_cache
def get_engine() -> AsyncEngine:
    """The process-wide engine."""
    return create_engine(get_settings())


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The process-wide session factory; objects stay usable after commit."""
    return async_sessionmaker(get_engine(), expire_on_commit=False)


async def dispose_engine() -> None:
    """Close pooled connections and forget the cached engine (shutdown and tests)."""
    if get_engine.cache_info().currsize:
        await get_engine().dispose()
    get_sessionmaker.cache_clear()
    get_engine.cache_clear()
