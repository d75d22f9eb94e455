"""What auditors look up: a referral by its reference, its trail, events by who acted and when,
and whether the log verifies. Every look-up is itself recorded in the audit log."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.models.audit import AuditActor, AuditEvent, AuditQuery
from app.models.directory import Purpose
from app.models.referral import Referral, ReferralStatus
from app.services import actors, audit
from app.services.actors import Actor, Names

UK = ZoneInfo("Europe/London")
# Reads of what the log or a referral holds; every other action changed something.
VIEW_SUFFIXES = (".viewed", ".listed", ".searched", ".exported")


class EventKind(StrEnum):
    CHANGE = "change"
    VIEW = "view"


class Shown(StrEnum):
    """Which of a trail's events an auditor chose to read."""

    EVERYTHING = "everything"
    CHANGES = "changes"
    VIEWS = "views"


def kind_of(action: str) -> EventKind:
    return EventKind.VIEW if action.endswith(VIEW_SUFFIXES) else EventKind.CHANGE


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether every event in the audit log checks out, and where it first does not."""

    valid: bool
    events_checked: int
    first_invalid_seq: int | None


@dataclass(frozen=True, slots=True)
class TrailReferral:
    """What a trail's heading says of its referral: no details of the person."""

    id: uuid.UUID
    reference: str
    status: ReferralStatus
    purpose: Purpose
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TrailEvent:
    """One audit event with its actor named, and the staff its details name by id."""

    seq: int | None
    at: datetime
    action: str
    kind: EventKind
    actor: Actor
    details: dict[str, Any]
    referral_id: uuid.UUID | None
    named: dict[str, str]
    reference: str | None = None


@dataclass(slots=True)
class TrailEntry:
    """A line of a timeline: one change, or one person's views of one kind on one day."""

    event: TrailEvent
    count: int = 1
    last: TrailEvent | None = None  # the latest of folded views


@dataclass(frozen=True, slots=True)
class TrailDay:
    day: date
    entries: list[TrailEntry]


@dataclass(frozen=True, slots=True)
class Timeline:
    """A referral's trail, day by day, with how many changes and views it holds in all."""

    days: list[TrailDay]
    changes: int
    views: int
    shown: Shown


def normalised(reference: str) -> str:
    """A reference as staff might type it (any case, spaces, no dashes) in its printed form."""
    letters = "".join(ch for ch in reference.upper() if ch.isalnum())
    return f"{letters[:2]}-{letters[2:7]}-{letters[7:]}" if len(letters) == 12 else reference.strip().upper()


async def find_by_reference(session: AsyncSession, actor: AuditActor, reference: str) -> uuid.UUID | None:
    """The referral with this reference; the search is audited whether or not it finds one."""
    wanted = normalised(reference)[:40]
    found = await session.scalar(select(col(Referral.id)).where(col(Referral.reference) == wanted))
    audit.record(
        session,
        actor,
        "audit.searched",
        "audit_trail",
        referral_id=found,
        details={"by": "reference", "found": found is not None},
    )
    return found


async def referral_of(session: AsyncSession, referral_id: uuid.UUID) -> TrailReferral | None:
    """The referral's reference, status, purpose, parties and date, or None when there is none."""
    columns = [col(getattr(Referral, name)) for name in TrailReferral.__dataclass_fields__]
    found = (await session.execute(select(*columns).where(col(Referral.id) == referral_id))).one_or_none()
    return TrailReferral(*found) if found else None


async def timeline(
    session: AsyncSession, actor: AuditActor, referral_id: uuid.UUID, shown: Shown
) -> Timeline:
    """The referral's sealed trail in leaf order, views folded per person per day; an audited search."""
    events = await _referral_events(session, referral_id)
    chosen = _chosen(events, shown)
    details: dict[str, audit.DetailValue] = {"referral_id": str(referral_id), "shown": shown.value}
    audit.record(
        session,
        actor,
        "audit.searched",
        "audit_trail",
        referral_id=referral_id,
        details=details | _count(chosen),
    )
    views = sum(1 for e in events if e.kind is EventKind.VIEW)
    return Timeline(fold_by_day(chosen), len(events) - views, views, shown)


async def export(
    session: AsyncSession, actor: AuditActor, referral_id: uuid.UUID, shown: Shown
) -> list[TrailEvent]:
    """The chosen events of the referral's sealed trail, one by one, for a download; audited as an export."""
    chosen = _chosen(await _referral_events(session, referral_id), shown)
    details: dict[str, audit.DetailValue] = {"referral_id": str(referral_id), "shown": shown.value}
    audit.record(
        session,
        actor,
        "audit.exported",
        "referral",
        referral_id,
        referral_id=referral_id,
        details=details | {"format": "csv"} | _count(chosen),
    )
    return chosen


def _count(events: Sequence[TrailEvent]) -> dict[str, audit.DetailValue]:
    return {"count": len(events)}


async def _referral_events(session: AsyncSession, referral_id: uuid.UUID) -> list[TrailEvent]:
    """Read in full: a single referral's trail is small enough, and views fold only when all are seen."""
    sealed = col(AuditEvent.seq).is_not(None)
    query = select(AuditEvent).where(sealed, audit.referral_trail(referral_id)).order_by(col(AuditEvent.seq))
    events = list((await session.execute(query)).scalars())
    return _named(events, await actors.names_for(session, events), {})


def _named(events: Sequence[AuditEvent], names: Names, references: dict[uuid.UUID, str]) -> list[TrailEvent]:
    return [
        TrailEvent(
            seq=e.seq,
            at=e.at,
            action=e.action,
            kind=kind_of(e.action),
            actor=names.actor(e.actor_kind, e.actor_id, e.actor_agency_id),
            details=e.details,
            referral_id=e.referral_id,
            named={key: name for key in actors.USER_DETAILS if (name := names.user_name(e.details.get(key)))},
            reference=references.get(e.referral_id) if e.referral_id else None,
        )
        for e in events
    ]


def _chosen(events: list[TrailEvent], shown: Shown) -> list[TrailEvent]:
    if shown is Shown.EVERYTHING:
        return events
    wanted = EventKind.CHANGE if shown is Shown.CHANGES else EventKind.VIEW
    return [e for e in events if e.kind is wanted]


def fold_by_day(events: Sequence[TrailEvent]) -> list[TrailDay]:
    """Events grouped by their day in the UK; one person's views of one kind that day make one line.

    A folded line stands where that day's first such view was, and says when the last was.
    """
    days: dict[date, TrailDay] = {}
    folded: dict[tuple[object, ...], TrailEntry] = {}
    for event in events:
        day = event.at.astimezone(UK).date()
        entries = days.setdefault(day, TrailDay(day, [])).entries
        if event.kind is EventKind.CHANGE:
            entries.append(TrailEntry(event))
            continue
        key = (day, event.actor.kind, event.actor.id, event.actor.agency_id, event.action)
        if key in folded:
            folded[key].count += 1
            folded[key].last = event
        else:
            folded[key] = TrailEntry(event)
            entries.append(folded[key])
    return list(days.values())


@dataclass(frozen=True, slots=True)
class EventSearch:
    """Events by one member of staff or partner system, or anyone's, within a period."""

    actor_id: str | None
    since: datetime | None
    until: datetime | None


async def people_named(session: AsyncSession, actor: AuditActor, typed: str) -> list[Actor]:
    """Staff and partner systems whose name matches what the auditor typed; audited, without the name."""
    found = await actors.named(session, typed)
    audit.record(session, actor, "audit.searched", "audit_trail", details={"by": "name", "found": len(found)})
    return found


async def who(session: AsyncSession, actor_id: str) -> Actor | None:
    """The member of staff or partner system an events search is about (None if no such account)."""
    return await actors.one(session, actor_id)


async def events(
    session: AsyncSession, actor: AuditActor, search: EventSearch, cursor: str | None, limit: int
) -> tuple[list[TrailEvent], str | None]:
    """A page of sealed events matching the search, in leaf order, through the audit search the API
    uses (so it is audited the same way), each with its actor named and its referral's reference."""
    query = AuditQuery(actor_id=search.actor_id, since=search.since, until=search.until)
    found, next_cursor = await audit.search_events(session, actor, query, cursor=cursor, limit=limit)
    references = await _references(session, {e.referral_id for e in found if e.referral_id})
    return _named(found, await actors.names_for(session, found), references), next_cursor


async def _references(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    query = select(col(Referral.id), col(Referral.reference)).where(col(Referral.id).in_(ids))
    return dict((await session.execute(query)).all())


async def verify(session: AsyncSession, settings: Settings, actor: AuditActor) -> Verdict:
    """Check the whole log on the auditor's behalf (recorded, with the verdict)."""
    result = await audit.verify_log_for(session, settings, actor)
    return Verdict(result.valid, result.events_checked, result.first_invalid_seq)
