"""What every command shares: the Alembic configuration, and running work in one unit of work."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import typer
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.config import get_settings
from app.db import dispose_engine
from app.errors import AppError
from app.models.audit import ActorKind, AuditActor

CLI_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="cli")
T = TypeVar("T")


def _migrations_dir() -> Path:
    for candidate in (Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise typer.BadParameter("cannot find the migrations/ folder")


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    config.attributes["configure_logging"] = False
    return config


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code: in an event loop of its own, on a thread
    of its own when this thread already runs one (a command called from asynchronous code)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


def run_async(work: Awaitable[T]) -> T:
    """Run a coroutine to completion, then release the database connections."""

    async def run() -> T:
        try:
            return await work
        finally:
            await dispose_engine()

    return asyncio.run(run())


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one unit of work, committed with its audit events, and clean up."""

    try:
        return run_async(unit_of_work.committed(work))
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
