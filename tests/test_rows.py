"""Rows written with plain INSERTs (several tables in one statement on PostgreSQL) read back unchanged."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.db import get_sessionmaker
from app.models.consent import Consent, ConsentMethod, DataCategory, LawfulBasis
from app.models.directory import Purpose
from app.models.subject import PreferredContact, Subject
from app.persistence import rows
from app.unit_of_work import committed
from tests.support.factories import make_agency

AWKWARD_TEXT = 'Siân O\'Brien-Łukasz "quoted" \\ back\nslash ✓'


def people(agency_id: uuid.UUID) -> list[rows.NewRow]:
    first = rows.new_row(
        Subject,
        given_name="Siân",
        family_name=AWKWARD_TEXT,
        date_of_birth=date(1990, 2, 3),
        phone="07700900123",
        preferred_contact=PreferredContact.TEXT,
        language="cy",
        needs_interpreter=True,
        circumstances={"lone_parent": True, "benefits": ["universal_credit"], "note": AWKWARD_TEXT},
        recorded_by_agency_id=agency_id,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )
    # No circumstances at all: stored as SQL NULL, not as JSON null.
    second = rows.new_row(
        Subject,
        given_name="Ann",
        family_name="Lee",
        date_of_birth=date(1985, 12, 31),
        recorded_by_agency_id=agency_id,
    )
    return [first, second]


def consent_of(person: rows.NewRow) -> rows.NewRow:
    return rows.new_row(
        Consent,
        given_by="subject",
        method=ConsentMethod.WRITTEN,
        # Not in UTC: read back as the same instant.
        given_at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=1))),
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        purposes=[Purpose.DEBT_ADVICE, Purpose.ESOL],
        data_categories=[DataCategory.CONTACT],
        sharing_agreement_ref="DSA-7",
        subject_id=person.values["id"],
        recorded_by_agency_id=person.values["recorded_by_agency_id"],
        recorded_by="tests",
    )


def column_values(instance: SQLModel) -> dict[str, Any]:
    return {c.key: getattr(instance, c.key) for c in rows.table_of(type(instance)).columns}


async def test_rows_of_several_tables_read_back_unchanged() -> None:
    agency = await make_agency()
    written = people(agency.id)
    consents = [consent_of(person) for person in written]

    async def work(session: AsyncSession) -> None:
        await rows.insert_rows(session, *written, *consents)

    await committed(work)
    async with get_sessionmaker()() as session:
        for model, row in [(Subject, r) for r in written] + [(Consent, r) for r in consents]:
            stored = await session.get(model, row.values["id"])
            assert stored is not None
            assert column_values(stored) == row.values
        null = select(col(Subject.id)).where(col(Subject.circumstances).is_(None))
        assert list((await session.execute(null)).scalars()) == [written[1].values["id"]]


def test_a_new_row_has_the_models_defaults_and_refuses_unknown_or_missing_columns() -> None:
    given: dict[str, Any] = {
        "given_name": "Ann",
        "family_name": "Lee",
        "date_of_birth": date(1985, 12, 31),
        "recorded_by_agency_id": uuid.uuid4(),
    }
    made, other = rows.new_row(Subject, **given), rows.new_row(Subject, **given)
    built = column_values(Subject(**given))

    made_fresh = {"id", "created_at", "updated_at"}  # by default factories, on each use
    assert made.values.keys() == built.keys()
    assert {k: v for k, v in made.values.items() if k not in made_fresh} == {
        k: v for k, v in built.items() if k not in made_fresh
    }
    assert made.values["id"] != other.values["id"]
    with pytest.raises(TypeError, match=r"unknown \['nickname'\]"):
        rows.new_row(Subject, **given, nickname="Annie")
    with pytest.raises(TypeError, match=r"missing \['date_of_birth'\]"):
        rows.new_row(Subject, **{k: v for k, v in given.items() if k != "date_of_birth"})
