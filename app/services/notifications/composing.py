"""The words of a notification: reference, agencies, service, purpose, what changed and a link.

Nothing about the person is ever put in: no name, date of birth, contact detail, reason, note,
message text or appointment place. A notification can be read over someone's shoulder.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.config import get_settings
from app.models.directory import Agency, Service
from app.models.referral import Referral

SETTINGS_PATH = "/settings"


def footer() -> str:
    """The last line of every notification about referrals: where to change what one is told."""
    return (
        "You are told of this by the referral exchange; change what you are told in your settings: "
        + link_to(SETTINGS_PATH)
    )


@dataclass(frozen=True, slots=True)
class ReferralNames:
    """What a notification may say of a referral."""

    id: uuid.UUID
    reference: str
    purpose: str
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    to_service_id: uuid.UUID
    from_agency: str
    to_agency: str
    service: str

    @property
    def link(self) -> str:
        return link_to(f"/referrals/{self.id}")


def link_to(path: str) -> str:
    """A link into the staff web app."""
    return get_settings().public_base_url.rstrip("/") + path


async def names_of(session: AsyncSession, referral_id: uuid.UUID) -> ReferralNames:
    """The referral's reference, purpose, agencies and service, in one query."""
    sender, receiver = aliased(Agency), aliased(Agency)
    query = (
        select(
            col(Referral.id),
            col(Referral.reference),
            col(Referral.purpose),
            col(Referral.from_agency_id),
            col(Referral.to_agency_id),
            col(Referral.to_service_id),
            col(sender.name),
            col(receiver.name),
            col(Service.name),
        )
        .join(sender, col(sender.id) == col(Referral.from_agency_id))
        .join(receiver, col(receiver.id) == col(Referral.to_agency_id))
        .join(Service, col(Service.id) == col(Referral.to_service_id))
        .where(col(Referral.id) == referral_id)
    )
    row = (await session.execute(query)).one()
    return ReferralNames(row[0], row[1], str(row[2].value), row[3], row[4], row[5], row[6], row[7], row[8])


def about(names: ReferralNames, headline: str, change: str) -> tuple[str, str]:
    """The subject line and body of a notification about one referral."""
    body = "\n".join(
        [
            headline,
            "",
            f"Referral: {names.reference}",
            f"From: {names.from_agency}",
            f"To: {names.to_agency} ({names.service})",
            f"Purpose: {names.purpose.replace('_', ' ')}",
            f"What changed: {change}",
            "",
            f"Open the referral: {names.link}",
            "",
            footer(),
        ]
    )
    return f"{names.reference}: {headline}"[:200], body
