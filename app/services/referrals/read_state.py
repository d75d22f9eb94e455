"""Per-reader read state: a referral is unread for a reader until they open it after the other
agency's last change to it (its creation, a status change, a message, an outcome)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.models.identity import User
from app.models.message import Message
from app.models.referral import Assignee, Referral, ReferralPublic, ReferralRead
from app.security import Principal
from app.services.workflow import Party


def touch(referral: Referral, agency_id: uuid.UUID | None, at: datetime | None = None) -> None:
    """Note a change made by `agency_id`, which makes the referral unread for the other agency."""
    at = at or utcnow()
    if agency_id != referral.to_agency_id:
        referral.changed_by_sender_at = at
    if agency_id != referral.from_agency_id:
        # Neither party (the person, through the service): both are told.
        referral.changed_by_receiver_at = at


def changed_by_other(party: Party) -> Any:
    """The column holding the other agency's last change, as `party` sees it."""
    return (
        col(Referral.changed_by_sender_at)
        if party == Party.RECEIVER
        else col(Referral.changed_by_receiver_at)
    )


def read_join(principal: Principal) -> ColumnElement[bool]:
    """Join condition for the caller's own read of each referral."""
    return and_(
        col(ReferralRead.referral_id) == col(Referral.id),
        col(ReferralRead.reader_kind) == principal.kind,
        col(ReferralRead.reader_id) == principal.id,
    )


def is_unread(party: Party) -> ColumnElement[bool]:
    """Unread for the caller: changed by the other agency since the caller's last read (needs `read_join`)."""
    other = changed_by_other(party)
    read_at = col(ReferralRead.read_at)
    return and_(other.is_not(None), or_(read_at.is_(None), read_at < other))


async def latest_messages_from_others(
    session: AsyncSession, agency_id: uuid.UUID, referral_ids: list[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each of the referrals last had a message from the other agency (none: not listed)."""
    if not referral_ids:
        return {}
    query = (
        select(col(Message.referral_id), func.max(col(Message.created_at)))
        .where(col(Message.referral_id).in_(referral_ids), col(Message.from_agency_id) != agency_id)
        .group_by(col(Message.referral_id))
    )
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


def unread(referral: Referral, party: Party, read_at: datetime | None) -> bool:
    other = referral.changed_by_sender_at if party == Party.RECEIVER else referral.changed_by_receiver_at
    return other is not None and (read_at is None or read_at < other)


async def mark_read(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> None:
    """Record that the caller has opened the referral now."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {"referral_id": referral_id, "reader_kind": principal.kind, "reader_id": principal.id}
    statement = dialect.insert(ReferralRead).values(**values, read_at=utcnow())
    keys = ["referral_id", "reader_kind", "reader_id"]
    await session.execute(
        statement.on_conflict_do_update(index_elements=keys, set_={"read_at": statement.excluded.read_at})
    )


async def annotate(
    session: AsyncSession, principal: Principal, party: Party, referral: Referral, public: ReferralPublic
) -> ReferralPublic:
    """Fill in who has the referral and whether it is unread for the caller."""
    public.assigned_to = await assignee(session, referral.assigned_to_user_id)
    query = select(col(ReferralRead.read_at)).where(
        col(ReferralRead.referral_id) == referral.id,
        col(ReferralRead.reader_kind) == principal.kind,
        col(ReferralRead.reader_id) == principal.id,
    )
    public.unread = unread(referral, party, (await session.execute(query)).scalar_one_or_none())
    return public


async def assignee(session: AsyncSession, user_id: uuid.UUID | None) -> Assignee | None:
    user = await session.get(User, user_id) if user_id else None
    return Assignee(id=user.id, display_name=user.display_name or user.username) if user else None
