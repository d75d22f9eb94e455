"""Running a service call for a page, keeping the unit of work whole when it is refused."""

from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.errors import AppError

T = TypeVar("T")


async def attempt(session: AsyncSession, work: Awaitable[T]) -> T | AppError:
    """The call's result, or its refusal once undone, for the page to explain.

    A refused call leaves nothing behind, as in the API: what it had written or queued is
    rolled back, unless the refusal must itself be recorded (a failed sign-in), which is
    committed. The page then reads afresh whatever it shows.
    """
    try:
        return await work
    except AppError as exc:
        await (unit_of_work.commit(session) if exc.commit_anyway else unit_of_work.rollback(session))
        return exc
