"""The statements a new referral runs: the receiving service's terms and the duplicate check."""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Unprocessable
from app.models.directory import Purpose, Service, ServicePurpose
from app.models.referral import OPEN_STATUSES, Referral
from app.models.subject import Subject, SubjectCreate
from app.persistence.rows import table_of


class Named(Protocol):
    """A person as the duplicate check knows them: names and date of birth."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def date_of_birth(self) -> date: ...


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    """What sending a referral needs to know of the receiving service."""

    id: uuid.UUID
    agency_id: uuid.UUID
    purposes: list[Purpose]
    accepting_referrals: bool
    response_target_days: int


# Statuses are written into the SQL: as a list parameter the statement would be rewritten on
# every execution to expand it.
_IS_OPEN = col(Referral.status).in_([literal_column(f"'{s.value}'") for s in sorted(OPEN_STATUSES)])
# It starts from the person (the identity index), so its cost does not grow with the
# service's caseload. Only the caller's own referrals are looked at: naming another agency's
# would tell the caller that this person is known to that service.
_OPEN_REFERRAL_OF_SUBJECT = (
    select(col(Referral.id))
    .where(
        col(Referral.subject_id) == col(Subject.id),
        col(Referral.to_service_id) == bindparam("service_id"),
        col(Referral.from_agency_id) == bindparam("agency_id"),
        _IS_OPEN,
    )
    .limit(1)
    .correlate(Subject)
    .scalar_subquery()
)
_NAMED = (
    select(_OPEN_REFERRAL_OF_SUBJECT.label("open_referral"))
    .where(
        col(Subject.date_of_birth) == bindparam("date_of_birth"),
        func.lower(col(Subject.given_name)) == bindparam("given_name"),
        func.lower(col(Subject.family_name)) == bindparam("family_name"),
    )
    .subquery("named")
)
OPEN_DUPLICATE = select(_NAMED.c.open_referral).where(_NAMED.c.open_referral.is_not(None)).limit(1)

_SERVICES, _PURPOSES = table_of(Service), table_of(ServicePurpose)
# The service, its purposes (a row each) and the duplicate check in one round trip; the check
# matches nothing when the request does not name the subject.
TERMS_AND_OPEN_DUPLICATE = (
    select(
        _SERVICES.c.id,
        _SERVICES.c.agency_id,
        _SERVICES.c.accepting_referrals,
        _SERVICES.c.response_target_days,
        _PURPOSES.c.purpose,
        OPEN_DUPLICATE.scalar_subquery().label("open_duplicate"),
    )
    .select_from(_SERVICES.outerjoin(_PURPOSES, _PURPOSES.c.service_id == _SERVICES.c.id))
    .where(_SERVICES.c.id == bindparam("service_id"))
)


def terms_from(found: Sequence[Row[*tuple[Any, ...]]], *, field: str) -> ServiceTerms:
    """The terms from the rows `TERMS_AND_OPEN_DUPLICATE` read, or 422 naming `field`."""
    if not found:
        raise Unprocessable.field(field, "no such service")
    first = found[0]
    purposes = sorted(row.purpose for row in found if row.purpose is not None)
    return ServiceTerms(
        first.id, first.agency_id, purposes, first.accepting_referrals, first.response_target_days
    )


def duplicate_params(service_id: uuid.UUID, agency_id: uuid.UUID, subject: Named | None) -> dict[str, Any]:
    """The duplicate check's parameters; with no subject named, they match nothing."""
    return {
        "service_id": service_id,
        "agency_id": agency_id,
        "date_of_birth": subject.date_of_birth if subject else None,
        "given_name": subject.given_name.strip().lower() if subject else None,
        "family_name": subject.family_name.strip().lower() if subject else None,
    }


def normalised_name(name: str) -> str:
    """A name as the duplicate check compares it: any case, any spacing."""
    return " ".join(name.casefold().split())


def open_key(agency_id: uuid.UUID, service_id: uuid.UUID, details: dict[str, Any]) -> str:
    """What makes two open referrals duplicates: one agency, one service, one person."""
    person = (
        details["date_of_birth"].isoformat(),
        *map(normalised_name, (details["given_name"], details["family_name"])),
    )
    parts = ("open-referral", str(agency_id), str(service_id), *person)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def open_referral_with_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    """The open referral holding this key, if it is still open."""
    query = select(col(Referral.id)).where(col(Referral.open_key) == key)
    found: uuid.UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def open_duplicate(
    session: AsyncSession, agency_id: uuid.UUID, service_id: uuid.UUID, subject: Named
) -> uuid.UUID | None:
    """The caller's agency's open referral of this subject to the service, if any."""
    params = duplicate_params(service_id, agency_id, subject)
    found: uuid.UUID | None = (await session.execute(OPEN_DUPLICATE, params)).scalar_one_or_none()
    return found


async def known_subject(session: AsyncSession, agency_id: uuid.UUID, named: SubjectCreate) -> Subject | None:
    """The subject this agency recorded with the same names, date of birth and postcode, if any.

    Only the agency's own records are searched: matching another agency's would tell the
    caller that the other agency knows the person.
    """
    if not named.postcode:
        return None
    query = select(Subject).where(
        col(Subject.recorded_by_agency_id) == agency_id,
        col(Subject.date_of_birth) == named.date_of_birth,
        func.lower(col(Subject.given_name)) == named.given_name.strip().lower(),
        func.lower(col(Subject.family_name)) == named.family_name.strip().lower(),
        col(Subject.anonymised_at).is_(None),
    )
    for subject in (await session.execute(query.order_by(col(Subject.created_at)))).scalars():
        if _postcode(subject.postcode) == _postcode(named.postcode):
            return subject
    return None


def _postcode(postcode: str | None) -> str:
    return "".join((postcode or "").upper().split())
