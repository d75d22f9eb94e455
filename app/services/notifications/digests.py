"""The daily digests: each person's held notifications, and each agency's overdue referrals.

Held notifications are folded in under row locks, so two workers never digest one twice. An
overdue digest carries a key of agency, day and address: a second worker making the same day's
digest is refused by the unique key and finds it made.
"""

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.directory import Service
from app.models.identity import NotificationKind, User
from app.models.notification import Notification, NotificationStatus
from app.models.referral import Referral, ReferralStatus
from app.services.notifications import composing, recipients, wording
from app.services.notifications.wording import Compose
from app.web import i18n
from app.web.i18n import Nn_
from app.web.labels import NOTIFICATION_KINDS

AWAITING_DECISION = (ReferralStatus.SUBMITTED, ReferralStatus.RECEIVED)


async def make_all(session: AsyncSession, now: datetime) -> int:
    """Make today's digests; how many."""
    return await held_digests(session, now) + await overdue_digests(session, now)


async def held_digests(session: AsyncSession, now: datetime) -> int:
    """One digest per person and kind of everything held for them, in their language."""
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
        session.add(_digest_of(items, await _language_of(session, items[0].recipient_user_id)))
        for item in items:
            item.status, item.updated_at = NotificationStatus.DIGESTED, now
        made += 1
    await session.flush()
    return made


async def _language_of(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    user = await session.get(User, user_id) if user_id else None
    return user.language if user else None


def _digest_of(items: list[Notification], language: str | None) -> Notification:
    first = items[0]
    lines = [f"- {n.subject}" + (f"\n  {n.link}" if n.link else "") for n in items]

    def compose(chosen: str) -> tuple[str, str]:
        kind = i18n.gettext_in(chosen, NOTIFICATION_KINDS.get(first.kind, first.kind.value))
        count = partial(i18n.ngettext_in, chosen, n=len(items), kind=kind)
        intro, subject = count(*DIGEST_INTRO), count(*DIGEST_SUBJECT)
        return subject, "\n".join([intro, "", *lines, "", composing.footer(chosen)])

    subject, body = wording.in_language(compose, language)
    return Notification(
        agency_id=first.agency_id,
        kind=first.kind,
        recipient_user_id=first.recipient_user_id,
        recipient_email=first.recipient_email,
        subject=subject,
        body=body,
        language=language,
        link=composing.link_to("/inbox"),
    )


DIGEST_INTRO = Nn_(
    "Your daily digest: %(num)s notification of %(kind)s.",
    "Your daily digest: %(num)s notifications of %(kind)s.",
)
DIGEST_SUBJECT = Nn_(
    "Daily digest: %(num)s notification (%(kind)s)", "Daily digest: %(num)s notifications (%(kind)s)"
)
OVERDUE_INTRO = Nn_(
    "%(num)s referral waits past its response target for your agency to accept or decline.",
    "%(num)s referrals wait past their response target for your agency to accept or decline.",
)
OVERDUE_SUBJECT = Nn_("%(num)s referral overdue for a decision", "%(num)s referrals overdue for a decision")
OVERDUE_LINE = Nn_(
    "- %(reference)s (%(service)s), due %(date)s, %(num)s day overdue",
    "- %(reference)s (%(service)s), due %(date)s, %(num)s days overdue",
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
        made += await _overdue_for(session, agency_id, _overdue_text(list(rows), now), now)
    return made


def _overdue_text(rows: Sequence[Any], now: datetime) -> Compose:
    """How to write an agency's overdue digest in a language."""

    def compose(language: str) -> tuple[str, str]:
        lines = [_overdue_line(language, now, *row[1:]) for row in rows]
        count = partial(i18n.ngettext_in, language, n=len(rows))
        intro, subject = count(*OVERDUE_INTRO), count(*OVERDUE_SUBJECT)
        return subject, "\n".join([intro, "", *lines, "", composing.footer(language)])

    return compose


def _overdue_line(
    language: str, now: datetime, referral_id: uuid.UUID, reference: str, due: datetime, service: str
) -> str:
    days = (now - due).days
    when = format_date(due, "d MMM y", locale=language)
    said = i18n.ngettext_in(language, *OVERDUE_LINE, days, reference=reference, service=service, date=when)
    return f"{said}\n  {composing.link_to(f'/referrals/{referral_id}')}"


async def _overdue_for(session: AsyncSession, agency_id: uuid.UUID, compose: Compose, now: datetime) -> int:
    to = await recipients.agency_staff(session, agency_id, NotificationKind.OVERDUE_DIGEST, now)
    keys = {r.email: f"overdue:{agency_id}:{now.date().isoformat()}:{r.email.lower()}" for r in to}
    existing = select(col(Notification.dedup_key)).where(col(Notification.dedup_key).in_(keys.values()))
    made = set((await session.execute(existing)).scalars())
    fresh = [r for r in to if keys[r.email] not in made]
    for recipient in fresh:
        subject, body = wording.in_language(compose, recipient.language)
        session.add(
            Notification(
                agency_id=agency_id,
                kind=NotificationKind.OVERDUE_DIGEST,
                recipient_user_id=recipient.user_id,
                recipient_email=recipient.email,
                subject=subject,
                body=body,
                language=recipient.language,
                link=composing.link_to("/inbox?overdue=true"),
                dedup_key=keys[recipient.email],
            )
        )
    await session.flush()
    return len(fresh)
