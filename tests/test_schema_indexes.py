"""Indexes the hot queries depend on exist after `alembic upgrade head`, on either database."""

from sqlalchemy import text

from app.db import get_engine

INDEX_NAMES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = :table",
}


async def index_names(table: str) -> set[str]:
    # Expression indexes are not reflected by SQLAlchemy on SQLite, so ask the catalogue.
    async with get_engine().connect() as conn:
        rows = await conn.execute(text(INDEX_NAMES[conn.dialect.name]), {"table": table})
        return {str(name) for (name,) in rows}


async def test_people_and_their_referrals_are_indexed_for_the_duplicate_referral_check() -> None:
    assert "ix_subjects_identity" in await index_names("subjects")
    referrals = await index_names("referrals")
    assert "ix_referrals_person" in referrals
    assert "ix_referrals_subject_id" not in referrals  # the person index leads with the same column


async def test_open_referrals_are_unique_per_person_agency_and_service() -> None:
    assert "ux_referrals_open_key" in await index_names("referrals")
