"""Correcting the person's details on a referral: by its sender, within what its consent covers.

The correction changes this referral's record only. Its history says that details were
corrected, and the audit trail which fields, never the values.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import Conflict, Forbidden, Unprocessable
from app.models.consent import Consent, DataCategory
from app.models.events import EventType
from app.models.person import CATEGORY_FIELDS, PersonCorrection, PersonRecord
from app.models.referral import HistoryKind, Referral, ReferralPublic, ReferralStatus, StatusChange
from app.persistence import rows
from app.services.referrals import read_state
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.referrals.moving import lock_current, status_change
from app.services.workflow import Party


async def correct_person(
    session: AsyncSession, access: PartyAccess, body: PersonCorrection, if_match: str | None
) -> ReferralPublic:
    """Correct the person's details on the referral (its sender only; needs If-Match)."""
    referral = access.referral
    if access.party != Party.SENDER:
        raise Forbidden("Only the agency that sent the referral may correct the person's details on it.")
    await lock_current(session, referral, if_match)
    record = referral.person
    _check_open(referral, record)
    changes = _corrections(body, await _categories(session, referral))
    changed = sorted(name for name, value in changes.items() if getattr(record, name) != value)
    if changed:
        await _apply(session, access, record, changes, changed)
    public = to_public(referral, access.principal, access.party)
    return await read_state.annotate(session, access.principal, access.party, referral, public)


def _check_open(referral: Referral, record: PersonRecord) -> None:
    if referral.status == ReferralStatus.WITHDRAWN:
        raise Conflict("The person withdrew their consent: their details are no longer processed.")
    if record.anonymised_at is not None:
        raise Conflict("The person's details were removed under the retention policy.")


async def _categories(session: AsyncSession, referral: Referral) -> list[DataCategory]:
    consent = await session.get(Consent, referral.consent_id)
    return consent.data_categories if consent is not None else []


def _corrections(body: PersonCorrection, categories: list[DataCategory]) -> dict[str, Any]:
    """The members given, refused where the referral's consent does not cover their category."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    changes.update(body.model_dump(include={"date_of_birth"} & changes.keys()))
    for category, names in CATEGORY_FIELDS.items():
        for name in names:
            if changes.get(name) is not None and category not in categories:
                raise Unprocessable.field(name, f"consent does not cover sharing {category.value} data")
    return changes


async def _apply(
    session: AsyncSession,
    access: PartyAccess,
    record: PersonRecord,
    changes: dict[str, Any],
    changed: list[str],
) -> None:
    """The new details, a new version of the referral, its history entry, audit event and partner event."""
    referral, principal, now = access.referral, access.principal, utcnow()
    record.sqlmodel_update(
        {name: changes[name] for name in changed} | {"corrected_at": now, "updated_at": now}
    )
    referral.version, referral.updated_at = referral.version + 1, now
    read_state.touch(referral, principal.agency_id, now)
    entry = status_change(referral, now, principal, referral.status) | {"kind": HistoryKind.DETAILS_CORRECTED}
    await rows.insert_rows(session, rows.new_row(StatusChange, **entry))
    audit_for(
        session, principal, "referral.details_corrected", referral, ("person", record.id), {"fields": changed}
    )
    emit_for(session, EventType.DETAILS_CORRECTED, referral)
