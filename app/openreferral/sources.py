"""Running an import: read the whole feed first, then change the directory in one transaction,
rolled back for a dry run or on any error."""

from pathlib import Path

import httpx

from app import unit_of_work
from app.config import Settings
from app.db import get_sessionmaker
from app.models.audit import AuditActor
from app.openreferral import importer, mapping
from app.openreferral.feed import Limits, read_source
from app.openreferral.importer import ImportReport


async def import_source(
    settings: Settings,
    source: str,
    actor: AuditActor,
    *,
    dry_run: bool = False,
    mapping_file: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportReport:
    """Import one feed or file; FeedError (or the directory's own AppError) and nothing is kept."""
    terms = mapping.load(mapping_file or settings.directory_mapping_file)
    records = await read_source(source, Limits.of(settings), transport)
    async with get_sessionmaker()() as session:
        try:
            report = await importer.apply(session, actor, records, terms, source)
        except BaseException:
            await unit_of_work.rollback(session)
            raise
        await (unit_of_work.rollback(session) if dry_run else unit_of_work.commit(session))
    return report
