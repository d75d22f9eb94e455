"""Reading referrals: an agency's inbox or sent box, one referral, and its history."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.models.directory import Purpose
from app.models.events import EventType
from app.models.referral import Referral, ReferralPublic, ReferralStatus, StatusChange, StatusChangePublic
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import audit
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.referrals.moving import change_public
from app.services.workflow import Party


class Box(StrEnum):
    INBOX = "inbox"
    SENT = "sent"


# Keyed on (created_at, id), which never change: referrals arriving while a client pages land
# before its cursor.
BOX_ORDER = Keyset(
    "referrals", (col(Referral.created_at), col(Referral.id)), (datetime, uuid.UUID), descending=True
)


async def list_box(
    session: AsyncSession,
    principal: Principal,
    box: Box,
    *,
    statuses: list[ReferralStatus] | None,
    purpose: Purpose | None,
    updated_after: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[ReferralPublic]:
    """The agency's inbox or sent referrals, newest first; audited with the ids shown."""
    agency_id = agency_of(principal)
    party = Party.RECEIVER if box == Box.INBOX else Party.SENDER
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    query = _filtered(select(Referral).where(owner == agency_id), statuses, purpose, updated_after)
    found, next_cursor = await keyset_page(session, query, BOX_ORDER, cursor, limit)
    shown = {"box": box.value, "referral_ids": [str(r.id) for r in found]}
    audit.record(session, principal.actor, "referral.listed", "referral", None, details=shown)
    return Page(items=[to_public(r, principal, party) for r in found], next_cursor=next_cursor)


def _filtered(
    query: Select[Referral],
    statuses: list[ReferralStatus] | None,
    purpose: Purpose | None,
    updated_after: datetime | None,
) -> Select[Referral]:
    if statuses:
        query = query.where(col(Referral.status).in_(statuses))
    if purpose:
        query = query.where(col(Referral.purpose) == purpose)
    if updated_after:
        query = query.where(col(Referral.updated_at) > updated_after)
    return query


async def view_and_stamp(session: AsyncSession, access: PartyAccess) -> ReferralPublic:
    """One referral; the receiver's first view is stamped on it, and every view is audited."""
    referral, principal = access.referral, access.principal
    if access.party == Party.RECEIVER and referral.first_viewed_at is None:
        await _stamp_first_view(session, referral)
    audit_for(session, principal, "referral.viewed", referral)
    return to_public(referral, principal, access.party)


async def _stamp_first_view(session: AsyncSession, referral: Referral) -> None:
    # Conditional, so two first views at once stamp the earlier time and tell partners once.
    now = utcnow()
    result = await session.execute(
        update(Referral)
        .where(col(Referral.id) == referral.id, col(Referral.first_viewed_at).is_(None))
        .values(first_viewed_at=now, updated_at=now)
    )
    if getattr(result, "rowcount", 0) == 1:
        emit_for(session, EventType.REFERRAL_VIEWED, referral)


async def history(session: AsyncSession, access: PartyAccess) -> list[StatusChangePublic]:
    """Every status change with who made it, when and why, oldest first."""
    referral = access.referral
    query = select(StatusChange).where(col(StatusChange.referral_id) == referral.id)
    changes = (await session.execute(query.order_by(col(StatusChange.at), col(StatusChange.id)))).scalars()
    audit_for(session, access.principal, "history.viewed", referral)
    return [change_public(c) for c in changes]
