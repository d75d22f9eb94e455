"""The daily digests: each person's held notifications, and each agency's overdue referrals.

Held notifications are folded in under row locks, so two workers never digest one twice. An
overdue digest carries a key of agency, day and address: a second worker making the same day's
digest is refused by the unique key and finds it made.
"""

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.directory import Service
from app.models.identity import NotificationKind
from app.models.notification import Notification, NotificationStatus
from app.models.referral import Referral, ReferralStatus
from app.services.notifications import composing, recipients

AWAITING_DECISION = (ReferralStatus.SUBMITTED, ReferralStatus.RECEIVED)


async def make_all(session: AsyncSession, now: datetime) -> int:
    """Make today's digests; how many."""
    return await held_digests(session, now) + await overdue_digests(session, now)


async def held_digests(session: AsyncSession, now: datetime) -> int:
    """One digest per person and kind of everything held for them."""
    query = (
        select(Notification)
        .where(col(Notification.status) == NotificationStatus.HELD, col(Notification.created_at) <= now)
        .order_by(col(Notification.recipient_email), col(Notification.kind), col(Notification.created_at))
        .with_for_update(skip_locked=True)
    )
    held = list((await session.execute(query)).scalars())
    made = 0
    for _, group in itertools.groupby(held, key=lambda n: (n.recipient_email, n.kind)):
        items = list(group)
        session.add(_digest_of(items, now))
        for item in items:
            item.status, item.updated_at = NotificationStatus.DIGESTED, now
        made += 1
    await session.flush()
    return made


def _digest_of(items: list[Notification], now: datetime) -> Notification:
    first = items[0]
    lines = [f"- {n.subject}" + (f"\n  {n.link}" if n.link else "") for n in items]
    label = first.kind.value.replace("_", " ")
    body = "\n".join(
        [f"Your daily digest: {len(items)} {label} notification(s).", "", *lines, "", composing.footer()]
    )
    return Notification(
        agency_id=first.agency_id,
        kind=first.kind,
        recipient_user_id=first.recipient_user_id,
        recipient_email=first.recipient_email,
        subject=f"Daily digest: {len(items)} {label} notification(s)",
        body=body,
        link=composing.link_to("/inbox"),
    )


async def overdue_digests(session: AsyncSession, now: datetime) -> int:
    """Per agency, its referrals past `due_by` and not yet accepted or declined, to its staff."""
    query = (
        select(
            col(Referral.to_agency_id),
            col(Referral.id),
            col(Referral.reference),
            col(Referral.due_by),
            col(Service.name),
        )
        .join(Service, col(Service.id) == col(Referral.to_service_id))
        .where(col(Referral.status).in_(AWAITING_DECISION), col(Referral.due_by) < now)
        .order_by(col(Referral.to_agency_id), col(Referral.due_by))
    )
    made = 0
    for agency_id, rows in itertools.groupby((await session.execute(query)).all(), key=lambda r: r[0]):
        subject, body = _overdue_text(list(rows), now)
        made += await _overdue_for(session, agency_id, subject, body, now)
    return made


def _overdue_text(rows: Sequence[Any], now: datetime) -> tuple[str, str]:
    lines = [
        f"- {reference} ({service}), due {due:%d %b %Y}, {(now - due).days} day(s) overdue\n"
        f"  {composing.link_to(f'/referrals/{referral_id}')}"
        for _, referral_id, reference, due, service in rows
    ]
    intro = f"{len(rows)} referral(s) wait past their response target for your agency to accept or decline."
    return f"{len(rows)} referral(s) overdue for a decision", "\n".join(
        [intro, "", *lines, "", composing.footer()]
    )


async def _overdue_for(
    session: AsyncSession, agency_id: uuid.UUID, subject: str, body: str, now: datetime
) -> int:
    to = await recipients.agency_staff(session, agency_id, NotificationKind.OVERDUE_DIGEST, now)
    keys = {r.email: f"overdue:{agency_id}:{now.date().isoformat()}:{r.email.lower()}" for r in to}
    existing = select(col(Notification.dedup_key)).where(col(Notification.dedup_key).in_(keys.values()))
    made = set((await session.execute(existing)).scalars())
    fresh = [r for r in to if keys[r.email] not in made]
    for recipient in fresh:
        session.add(
            Notification(
                agency_id=agency_id,
                kind=NotificationKind.OVERDUE_DIGEST,
                recipient_user_id=recipient.user_id,
                recipient_email=recipient.email,
                subject=subject,
                body=body,
                link=composing.link_to("/inbox?overdue=true"),
                dedup_key=keys[recipient.email],
            )
        )
    await session.flush()
    return len(fresh)
