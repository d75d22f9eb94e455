"""Reading referrals: an agency's inbox or sent box, one referral, and its history."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Unprocessable
from app.models.audit import ActorKind
from app.models.directory import Purpose
from app.models.events import EventType
from app.models.identity import User
from app.models.referral import (
    OPEN_STATUSES,
    Assignee,
    Referral,
    ReferralPublic,
    ReferralRead,
    ReferralStatus,
    StatusChange,
    StatusChangePublic,
)
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import audit
from app.services.referrals import journeys, read_state
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.referrals.moving import change_public
from app.services.workflow import Party

# Waiting for the receiver to accept or decline.
AWAITING_DECISION = (ReferralStatus.SUBMITTED, ReferralStatus.RECEIVED)


class Box(StrEnum):
    INBOX = "inbox"
    SENT = "sent"


# Keyed on (created_at, id), which never change: referrals arriving while a client pages land
# before its cursor.
BOX_ORDER = Keyset(
    "referrals", (col(Referral.created_at), col(Referral.id)), (datetime, uuid.UUID), descending=True
)


@dataclass(frozen=True, slots=True)
class BoxFilters:
    """What a box listing is narrowed to; `assigned_to` is `me`, `none` or a user id."""

    statuses: list[ReferralStatus] | None = None
    purpose: Purpose | None = None
    updated_after: datetime | None = None
    assigned_to: str | None = None
    unread: bool | None = None
    overdue: bool | None = None
    needs_cover: bool | None = None


async def list_box(
    session: AsyncSession,
    principal: Principal,
    box: Box,
    filters: BoxFilters,
    *,
    cursor: str | None,
    limit: int,
) -> Page[ReferralPublic]:
    """The agency's inbox or sent referrals, newest first; audited with the ids shown."""
    agency_id = agency_of(principal)
    party = Party.RECEIVER if box == Box.INBOX else Party.SENDER
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    query = (
        select(
            Referral,
            col(ReferralRead.read_at),
            col(User.display_name),
            col(User.username),
            *BOX_ORDER.columns,
        )
        .outerjoin(ReferralRead, read_state.read_join(principal))
        .outerjoin(User, col(User.id) == col(Referral.assigned_to_user_id))
        .where(owner == agency_id, *_conditions(principal, party, filters))
    )
    found, next_cursor = await keyset_page(session, query, BOX_ORDER, cursor, limit, scalars=False)
    shown = {"box": box.value, "referral_ids": [str(row.Referral.id) for row in found]}
    audit.record(session, principal.actor, "referral.listed", "referral", None, details=shown)
    return Page(items=[_listed(row, principal, party) for row in found], next_cursor=next_cursor)


async def count_box(session: AsyncSession, principal: Principal, box: Box, filters: BoxFilters) -> int:
    """How many referrals the same listing would hold (a count shows no referral, so is not audited)."""
    party = Party.RECEIVER if box == Box.INBOX else Party.SENDER
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    query = (
        select(func.count())
        .select_from(Referral)
        .outerjoin(ReferralRead, read_state.read_join(principal))
        .outerjoin(User, col(User.id) == col(Referral.assigned_to_user_id))
        .where(owner == agency_of(principal), *_conditions(principal, party, filters))
    )
    return int(await session.scalar(query) or 0)


def _listed(row: Any, principal: Principal, party: Party) -> ReferralPublic:
    referral: Referral = row.Referral
    public = to_public(referral, principal, party)
    if referral.assigned_to_user_id is not None:
        public.assigned_to = Assignee(
            id=referral.assigned_to_user_id, display_name=row.display_name or row.username
        )
    public.unread = read_state.unread(referral, party, row.read_at)
    return public


def _conditions(principal: Principal, party: Party, filters: BoxFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.statuses:
        found.append(col(Referral.status).in_(filters.statuses))
    if filters.purpose:
        found.append(col(Referral.purpose) == filters.purpose)
    if filters.updated_after:
        found.append(col(Referral.updated_at) > filters.updated_after)
    if filters.assigned_to is not None:
        found.append(_assigned(principal, filters.assigned_to))
    return found + _team_conditions(party, filters)


def _team_conditions(party: Party, filters: BoxFilters) -> list[ColumnElement[bool]]:
    now, found = utcnow(), []
    if filters.unread is not None:
        found.append(read_state.is_unread(party) if filters.unread else not_(read_state.is_unread(party)))
    if filters.overdue is not None:
        overdue = and_(col(Referral.status).in_(AWAITING_DECISION), col(Referral.due_by) < now)
        found.append(overdue if filters.overdue else not_(overdue))
    if filters.needs_cover is not None:
        uncovered = or_(col(User.away_until) > now, col(User.is_active).is_(False))
        needs = and_(col(User.id).is_not(None), col(Referral.status).in_(OPEN_STATUSES), uncovered)
        found.append(needs if filters.needs_cover else not_(needs))
    return found


def _assigned(principal: Principal, assigned_to: str) -> ColumnElement[bool]:
    """`me`, `none` or a user id, as a condition on who has the referral."""
    column = col(Referral.assigned_to_user_id)
    if assigned_to == "none":
        return column.is_(None)
    if assigned_to == "me":
        if principal.kind != ActorKind.USER:
            raise Unprocessable.field("assigned_to", "`me` needs a staff account")
        return column == uuid.UUID(principal.id)
    try:
        return column == uuid.UUID(assigned_to)
    except ValueError:
        raise Unprocessable.field("assigned_to", "is `me`, `none` or a user id") from None


async def view_and_stamp(session: AsyncSession, access: PartyAccess) -> ReferralPublic:
    """One referral; the receiver's first view is stamped on it, and every view is audited."""
    referral, principal = access.referral, access.principal
    if access.party == Party.RECEIVER and referral.first_viewed_at is None:
        await _stamp_first_view(session, referral)
    audit_for(session, principal, "referral.viewed", referral)
    await read_state.mark_read(session, principal, referral.id)
    public = to_public(referral, principal, access.party)
    public.assigned_to = await read_state.assignee(session, referral.assigned_to_user_id)
    public.journey = await journeys.linked(session, referral.journey_id, agency_of(principal))
    return public


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
