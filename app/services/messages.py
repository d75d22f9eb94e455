"""The note thread between the two agencies on one referral."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict
from app.models.audit import AuditActor
from app.models.events import EventType
from app.models.message import Message, MessageCreate, MessagePublic
from app.models.referral import ReferralStatus
from app.persistence import idempotency
from app.security import agency_of
from app.services import notifications, referrals
from app.services.referrals import PartyAccess, read_state


def to_public(message: Message) -> MessagePublic:
    author = AuditActor(kind=message.author_kind, id=message.author_id, agency_id=message.from_agency_id)
    return MessagePublic.model_validate(message, update={"author": author})


async def post(
    session: AsyncSession, access: PartyAccess, body: MessageCreate, claim: idempotency.Claim | None
) -> MessagePublic:
    """Add a message to the thread; refused once consent is withdrawn (processing must stop)."""
    referral, principal = access.referral, access.principal
    if referral.status == ReferralStatus.WITHDRAWN:
        raise Conflict("Consent for this referral was withdrawn; no further messages can be added.")
    message = Message(
        referral_id=referral.id,
        from_agency_id=agency_of(principal),
        author_kind=principal.kind,
        author_id=principal.id,
        body=body.body,
    )
    session.add(message)
    referral.updated_at = utcnow()
    read_state.touch(referral, principal.agency_id, referral.updated_at)
    await session.flush()
    referrals.audit_for(session, principal, "message.posted", referral, ("message", message.id))
    referrals.emit_for(session, EventType.MESSAGE_POSTED, referral)
    await notifications.message_posted(session, referral, principal)
    public = to_public(message)
    idempotency.remember(claim, 201, public, {"Location": f"/v1/referrals/{referral.id}/messages"})
    return public


async def list_for(session: AsyncSession, access: PartyAccess) -> list[MessagePublic]:
    """The thread, oldest first."""
    referral = access.referral
    query = select(Message).where(col(Message.referral_id) == referral.id)
    rows = (await session.execute(query.order_by(col(Message.created_at), col(Message.id)))).scalars()
    referrals.audit_for(session, access.principal, "message.listed", referral)
    return [to_public(m) for m in rows]


async def referral_of(session: AsyncSession, message_id: uuid.UUID) -> uuid.UUID | None:
    """The referral a message was posted on (the caller then loads it for its party)."""
    query = select(col(Message.referral_id)).where(col(Message.id) == message_id)
    found: uuid.UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found
