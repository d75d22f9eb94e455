"""A referral as one of its two parties reaches it: loaded, shown, audited and announced.

An agency learns nothing about a referral it is not party to, by any route: responses, history,
consent records, events, webhooks, errors, reports, or the time an answer takes. Anyone else
gets the 404 a referral that does not exist gets, after the same work.
"""

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models.events import EventType
from app.models.identity import Scope
from app.models.referral import Referral, ReferralPublic, ReferralStatus
from app.security import Principal
from app.services import audit, events, people, workflow
from app.services.workflow import Party


@dataclass(frozen=True, slots=True)
class PartyAccess:
    """A referral loaded for a caller whose agency is one of its two parties."""

    referral: Referral
    principal: Principal
    party: Party


class ReferralFacts(Protocol):
    """What the audit trail and the event feed name of a referral: ids and its status."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def subject_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> ReferralStatus: ...
    @property
    def from_agency_id(self) -> uuid.UUID: ...
    @property
    def to_agency_id(self) -> uuid.UUID: ...


@dataclass(frozen=True, slots=True)
class NewReferralFacts:
    """The facts of a referral that is being inserted, before any table model exists for it."""

    id: uuid.UUID
    subject_id: uuid.UUID
    status: ReferralStatus
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID

    @classmethod
    def of(cls, public: ReferralPublic, subject_id: uuid.UUID) -> "NewReferralFacts":
        return cls(public.id, subject_id, public.status, public.from_agency_id, public.to_agency_id)


def etag(referral: Referral | ReferralPublic) -> str:
    return f'"{referral.version}"'


def resource_headers(public: ReferralPublic) -> dict[str, str]:
    return {"Location": f"/v1/referrals/{public.id}", "ETag": etag(public)}


# Read off the table model into a dict: validating the table model itself goes through
# SQLModel's attribute-by-attribute wrapper, which is far slower.
_COPIED_FIELDS = tuple(
    name
    for name in ReferralPublic.model_fields
    if name not in {"subject", "allowed_actions", "assigned_to", "unread", "new_messages", "journey"}
)


def to_public(referral: Referral, principal: Principal, party: Party) -> ReferralPublic:
    """The referral as the caller's agency sees it, with the moves the caller may make."""
    values = {name: getattr(referral, name) for name in _COPIED_FIELDS}
    values["subject"] = people.to_public(referral.person)
    if party != Party.SENDER:  # the parent is a referral the receiver may not be party to
        values["parent_referral_id"] = None
    values["allowed_actions"] = workflow.allowed_actions(
        referral, party, principal.has(Scope.REFERRALS_WRITE)
    )
    return ReferralPublic.model_validate(values)


async def load_for_party(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> PartyAccess:
    """The referral if the caller's agency sent or received it; 404 otherwise (existence is not leaked)."""
    referral = await session.get(Referral, referral_id)
    party = workflow.party_of(referral, principal) if referral else None
    if referral is None or party is None:
        raise NotFound(f"Referral {referral_id} not found.")
    return PartyAccess(referral, principal, party)


def audit_for(
    session: AsyncSession,
    principal: Principal,
    action: str,
    referral: ReferralFacts,
    entity: tuple[str, object] | None = None,
    details: dict[str, audit.DetailValue] | None = None,
) -> None:
    """Audit something done to or seen of a referral, linked to it and to its subject."""
    entity_type, entity_id = entity or ("referral", referral.id)
    audit.record(
        session,
        principal.actor,
        action,
        entity_type,
        entity_id,
        referral_id=referral.id,
        subject_id=referral.subject_id,
        details=details,
    )


def emit_for(session: AsyncSession, type_: EventType, referral: ReferralFacts) -> None:
    """Tell both agencies' systems that something happened to the referral."""
    events.emit(
        session,
        type_,
        referral_id=referral.id,
        status=referral.status.value,
        from_agency_id=referral.from_agency_id,
        to_agency_id=referral.to_agency_id,
    )
