"""Names of agencies and services for the pages (the directory is open to every signed-in user)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.services import directory
from app.web import i18n


async def agency_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    """Every agency's name by id, in Welsh on a Welsh page where the agency has one."""
    welsh = i18n.current_locale() == "cy"
    names: dict[uuid.UUID, str] = {}
    cursor: str | None = None
    while True:
        agencies, cursor = await directory.list_agencies(
            session, kind=None, local_authority=None, cursor=cursor, limit=get_settings().max_page_size
        )
        names.update({a.id: (a.name_cy if welsh and a.name_cy else a.name) for a in agencies})
        if cursor is None:
            return names
