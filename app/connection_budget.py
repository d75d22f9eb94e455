"""How many PostgreSQL connections the whole deployment may open, checked against the server at start.

Each API process opens at most DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW connections for
requests, and one more for each readiness probe (made outside the pool). A worker process holds
at most WORKER_CONNECTIONS at once: its sealing loop and its sending loop each use one at a time
(app/worker.py), whatever the pool would allow. API_PROCESSES and WORKER_PROCESSES say how many of
each share the database across every node; DATABASE_SPARE_CONNECTIONS is left for migrations, the
command line, backups and monitoring. The server allows max_connections less the slots it keeps
for superusers (and, from PostgreSQL 16, reserved_connections).

A process can count only what it is told: the settings are the deployment's declaration, and
`serve` and `worker` refuse to start when it cannot fit. A database that cannot be reached at
start is not a refusal (the service waits for it, answering 503), only a warning.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import create_probe_engine

logger = logging.getLogger("app.connection_budget")

# A worker's sealing loop and its sending loop, each holding one connection at a time.
WORKER_CONNECTIONS = 2
# One readiness probe at a time per API process (a load balancer's), on a connection of its own.
PROBE_CONNECTIONS = 1
_ALLOWED = (
    "SELECT current_setting('max_connections')::int AS max_connections,"
    " current_setting('superuser_reserved_connections')::int"
    " + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved"
)


@dataclass(frozen=True, slots=True)
class Budget:
    """The most connections the deployment the settings describe may open at once."""

    per_api_process: int
    api_processes: int
    worker_processes: int
    spare: int

    @property
    def needed(self) -> int:
        workers = self.worker_processes * WORKER_CONNECTIONS
        return self.api_processes * self.per_api_process + workers + self.spare

    def explained(self, settings: Settings) -> str:
        return (
            f"API_PROCESSES {self.api_processes} x (DATABASE_POOL_SIZE {settings.database_pool_size}"
            f" + DATABASE_MAX_OVERFLOW {settings.database_max_overflow} + {PROBE_CONNECTIONS} for /readyz)"
            f" + WORKER_PROCESSES {self.worker_processes} x {WORKER_CONNECTIONS}"
            f" + DATABASE_SPARE_CONNECTIONS {self.spare} = {self.needed}"
        )


def budget_of(settings: Settings) -> Budget:
    per_process = settings.database_pool_size + settings.database_max_overflow + PROBE_CONNECTIONS
    return Budget(
        per_process, settings.api_processes, settings.worker_processes, settings.database_spare_connections
    )


def refusal(settings: Settings, max_connections: int, reserved: int) -> str | None:
    """Why the deployment cannot fit in what the server allows, or None when it fits."""
    budget, allowed = budget_of(settings), max_connections - reserved
    if budget.needed <= allowed:
        return None
    return (
        f"the database allows {allowed} connections (max_connections {max_connections}, {reserved}"
        f" reserved), but the deployment may open {budget.explained(settings)}. Lower DATABASE_POOL_SIZE"
        " or DATABASE_MAX_OVERFLOW, raise max_connections, or put PgBouncer in front"
        " (docs/operations.md, 'Connections')"
    )


def applies(settings: Settings) -> bool:
    """Whether there is a budget to check: not for one SQLite file, nor behind PgBouncer (whose
    max_client_conn and default_pool_size keep it)."""
    return not (settings.is_sqlite or settings.database_behind_pgbouncer)


async def check(settings: Settings) -> str | None:
    """Ask the server what it allows; why the deployment cannot fit, or None (also when not asked)."""
    if not applies(settings):
        return None
    engine = create_probe_engine(settings)
    try:
        max_connections, reserved = await _allowed(engine)
    except Exception as exc:  # down or refusing: it is waited for, not a reason to refuse
        logger.warning("the connection budget was not checked: %s", type(exc).__name__)
        return None
    finally:
        await engine.dispose()
    return refusal(settings, max_connections, reserved)


async def _allowed(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as connection:
        row = (await connection.exec_driver_sql(_ALLOWED)).mappings().one()
        await connection.rollback()
    return int(row["max_connections"]), int(row["reserved"])
