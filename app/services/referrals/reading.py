"""Reading referrals: an agency's inbox or sent box, one referral, and its history."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, not_, or_, select, update
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
    HistoryKind,
    Referral,
    ReferralPublic,
    ReferralRead,
    ReferralStatus,
    StatusChange,
    StatusChangePublic,
    Urgency,
)
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import audit
from app.services.referrals import journeys, read_state, searching
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.referrals.moving import change_public
from app.services.workflow import Party

# Waiting for the receiver to accept or decline.
AWAITING_DECISION = (ReferralStatus.SUBMITTED, ReferralStatus.RECEIVED)


class Box(StrEnum):
    INBOX = "inbox"
    SENT = "sent"


class BoxSort(StrEnum):
    """The order of a box: a column, with `-` before it for the largest first."""

    NEWEST = "-created_at"
    OLDEST = "created_at"
    DUE_FIRST = "due_by"
    DUE_LAST = "-due_by"
    MOST_URGENT = "-urgency"
    LEAST_URGENT = "urgency"


_CREATED = (col(Referral.created_at), col(Referral.id))
_DUE = (col(Referral.due_by), col(Referral.id))
# Urgencies are stored by name, and routine < soon < urgent reads the same as their order.
_URGENCY = (col(Referral.urgency), *_CREATED)
# Keyed on columns that never change (and the id, to make the key unique): referrals arriving
# while a client pages land before or after its cursor, never twice. Each order has an index per
# box (migration 0020_worklists); a cursor works only in the order it was issued for.
BOX_ORDER = Keyset("referrals", _CREATED, (datetime, uuid.UUID), descending=True)
BOX_ORDERS = {
    BoxSort.NEWEST: BOX_ORDER,
    BoxSort.OLDEST: Keyset("referrals:created_at", _CREATED, (datetime, uuid.UUID)),
    BoxSort.DUE_FIRST: Keyset("referrals:due_by", _DUE, (datetime, uuid.UUID)),
    BoxSort.DUE_LAST: Keyset("referrals:-due_by", _DUE, (datetime, uuid.UUID), descending=True),
    BoxSort.MOST_URGENT: Keyset("referrals:-urgency", _URGENCY, (str, datetime, uuid.UUID), descending=True),
    BoxSort.LEAST_URGENT: Keyset("referrals:urgency", _URGENCY, (str, datetime, uuid.UUID)),
}


@dataclass(frozen=True, slots=True)
class BoxFilters:
    """What a box listing is narrowed to; `assigned_to` is `me`, `none` or a user id; `search`
    a reference or the person's names (see `searching`)."""

    statuses: list[ReferralStatus] | None = None
    purpose: Purpose | None = None
    updated_after: datetime | None = None
    assigned_to: str | None = None
    unread: bool | None = None
    overdue: bool | None = None
    needs_cover: bool | None = None
    search: str | None = None
    urgencies: list[Urgency] | None = None
    # Narrowing a list to given referrals, a reference, the other party or the receiving service
    # (the FHIR searches' parameters).
    referral_ids: list[uuid.UUID] | None = None
    reference: str | None = None
    from_agency_id: uuid.UUID | None = None
    to_agency_id: uuid.UUID | None = None
    to_service_id: uuid.UUID | None = None


async def list_box(
    session: AsyncSession,
    principal: Principal,
    box: Box | None,
    *filters: BoxFilters,
    sort: BoxSort = BoxSort.NEWEST,
    cursor: str | None,
    limit: int,
) -> Page[ReferralPublic]:
    """The agency's inbox or sent referrals (box None: both) matching every one of `filters`, in
    the order asked for; audited with the ids shown (and whether it was a search, never what was
    searched for)."""
    party, order = _party(box), BOX_ORDERS[sort]
    listed = select(
        Referral, col(ReferralRead.read_at), col(User.display_name), col(User.username), *order.columns
    )
    query = _joined(listed, principal).where(
        *_owned(principal, box), *_all_conditions(principal, party, filters)
    )
    found, next_cursor = await keyset_page(session, query, order, cursor, limit, scalars=False)
    shown: dict[str, audit.DetailValue] = {
        "box": box.value if box else "all",
        "referral_ids": [str(row.Referral.id) for row in found],
    }
    if any(f.search for f in filters):
        shown["searched"] = True
    audit.record(session, principal.actor, "referral.listed", "referral", None, details=shown)
    items = [_listed(row, principal, party or _party_of(row.Referral, principal)) for row in found]
    await _mark_new_messages(session, principal, items, {row.Referral.id: row.read_at for row in found})
    return Page(items=items, next_cursor=next_cursor)


async def count_box(
    session: AsyncSession, principal: Principal, box: Box, *filters: BoxFilters, up_to: int | None = None
) -> int:
    """How many referrals the same listing would hold, counting no further than `up_to` (a count
    shows no referral, so is not audited).

    Counting stops at `up_to` so that a page showing several counts costs the same for an agency
    with a million referrals as for one with a thousand.
    """
    # Joined only as the filters need, so that a count can be read from an index alone.
    matching: Select[Any] = select(literal_column("1")).select_from(Referral)
    if any(f.unread is not None for f in filters):
        matching = matching.outerjoin(ReferralRead, read_state.read_join(principal))
    if any(f.needs_cover is not None for f in filters):
        matching = matching.outerjoin(User, col(User.id) == col(Referral.assigned_to_user_id))
    matching = matching.where(*_owned(principal, box), *_all_conditions(principal, _party(box), filters))
    if up_to is not None:
        matching = matching.limit(up_to)
    return int(await session.scalar(select(func.count()).select_from(matching.subquery())) or 0)


def _party(box: Box | None) -> Party | None:
    if box is None:
        return None
    return Party.RECEIVER if box == Box.INBOX else Party.SENDER


def _party_of(referral: Referral, principal: Principal) -> Party:
    return Party.RECEIVER if referral.to_agency_id == principal.agency_id else Party.SENDER


def _owned(principal: Principal, box: Box | None) -> list[ColumnElement[bool]]:
    agency_id = agency_of(principal)
    if box is None:
        return [or_(col(Referral.to_agency_id) == agency_id, col(Referral.from_agency_id) == agency_id)]
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    return [owner == agency_id]


def _joined(query: Select[Any], principal: Principal) -> Select[Any]:
    # The caller's own read of each referral (for unread) and its assignee (for needs cover).
    return query.outerjoin(ReferralRead, read_state.read_join(principal)).outerjoin(
        User, col(User.id) == col(Referral.assigned_to_user_id)
    )


def _listed(row: Any, principal: Principal, party: Party) -> ReferralPublic:
    referral: Referral = row.Referral
    public = to_public(referral, principal, party)
    if referral.assigned_to_user_id is not None:
        public.assigned_to = Assignee(
            id=referral.assigned_to_user_id, display_name=row.display_name or row.username
        )
    public.unread = read_state.unread(referral, party, row.read_at)
    return public


async def _mark_new_messages(
    session: AsyncSession,
    principal: Principal,
    items: list[ReferralPublic],
    read_at: dict[uuid.UUID, datetime | None],
) -> None:
    """Flag the referrals with a message from the other agency since the caller last opened them.

    One query for the page's referrals, from the messages themselves: nothing more to keep.
    """
    latest = await read_state.latest_messages_from_others(session, agency_of(principal), list(read_at))
    for item in items:
        other = latest.get(item.id)
        seen = read_at[item.id]
        item.new_messages = other is not None and (seen is None or seen < other)


def _all_conditions(
    principal: Principal, party: Party | None, filters: tuple[BoxFilters, ...]
) -> list[ColumnElement[bool]]:
    return [c for f in filters for c in _conditions(principal, party, f)]


def _conditions(principal: Principal, party: Party | None, filters: BoxFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    # An empty list of statuses matches nothing (a view and a filter that exclude each other).
    if filters.statuses is not None:
        found.append(col(Referral.status).in_(filters.statuses))
    if filters.urgencies is not None:
        found.append(col(Referral.urgency).in_(filters.urgencies))
    if filters.purpose:
        found.append(col(Referral.purpose) == filters.purpose)
    if filters.search is not None:
        found.append(searching.matching(filters.search))
    if filters.updated_after:
        found.append(col(Referral.updated_at) > filters.updated_after)
    if filters.assigned_to is not None:
        found.append(_assigned(principal, filters.assigned_to))
    return found + _party_conditions(filters) + _team_conditions(principal, party, filters)


def _party_conditions(filters: BoxFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.referral_ids is not None:
        found.append(col(Referral.id).in_(filters.referral_ids))
    if filters.reference is not None:
        found.append(col(Referral.reference) == filters.reference)
    for column, value in (
        (col(Referral.from_agency_id), filters.from_agency_id),
        (col(Referral.to_agency_id), filters.to_agency_id),
        (col(Referral.to_service_id), filters.to_service_id),
    ):
        if value is not None:
            found.append(column == value)
    return found


def _unread(principal: Principal, party: Party | None) -> ColumnElement[bool]:
    if party is not None:
        return read_state.is_unread(party)
    agency_id = agency_of(principal)  # both boxes: each referral as the side the caller is on
    return or_(
        and_(col(Referral.to_agency_id) == agency_id, read_state.is_unread(Party.RECEIVER)),
        and_(col(Referral.from_agency_id) == agency_id, read_state.is_unread(Party.SENDER)),
    )


def _team_conditions(
    principal: Principal, party: Party | None, filters: BoxFilters
) -> list[ColumnElement[bool]]:
    now, found = utcnow(), []
    if filters.unread is not None:
        unread = _unread(principal, party)
        found.append(unread if filters.unread else not_(unread))
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


async def status_reasons(
    session: AsyncSession, referral_ids: list[uuid.UUID]
) -> dict[uuid.UUID, StatusChangePublic]:
    """The move that put each referral in the status it has now: why it was declined or cancelled.

    Part of showing the referral (its status and why), so the caller audits the view or listing it
    shows them in, as it does the status itself.
    """
    if not referral_ids:
        return {}
    query = (
        select(StatusChange)
        .join(Referral, col(Referral.id) == col(StatusChange.referral_id))
        .where(
            col(StatusChange.referral_id).in_(referral_ids),
            col(StatusChange.to_status) == col(Referral.status),
            col(StatusChange.kind) == HistoryKind.STATUS_CHANGED,
        )
        .order_by(col(StatusChange.at), col(StatusChange.id))
    )
    changes = (await session.execute(query)).scalars()
    return {change.referral_id: change_public(change) for change in changes}  # the latest wins
