"""Database drivers' log records stripped of the data they carry, at whatever level they are logged.

No log line may hold personal data. The engine hides statement parameters from its own log
lines and errors; two libraries log data at DEBUG regardless: aiosqlite logs every call it
makes with its arguments (the SQL and its parameters), and SQLAlchemy's engine logs each row
it reads. Their records keep their shape here (which call, that a row was read) without the
values, so turning those loggers up for a diagnosis cannot leak a person's details.
"""

import functools
import logging
from typing import Any

DRIVER_CALLS = "aiosqlite"
ENGINE = "sqlalchemy.engine.Engine"


def _call_name(value: Any) -> Any:
    if isinstance(value, functools.partial):
        return getattr(value.func, "__qualname__", "a database call")
    return value


class DriverCallFilter(logging.Filter):
    """Name each call aiosqlite logs, without its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_call_name(arg) for arg in record.args)
        return True


class RowFilter(logging.Filter):
    """Log that a row was read, not what it held."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Row "):
            record.msg, record.args = "Row (values not logged)", ()
        return True


def _install(logger_name: str, log_filter: logging.Filter) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, type(log_filter)) for f in logger.filters):
        logger.addFilter(log_filter)


def keep_personal_data_out_of_driver_logs() -> None:
    """Install the filters (once per process; safe to call again)."""
    _install(DRIVER_CALLS, DriverCallFilter())
    _install(ENGINE, RowFilter())
