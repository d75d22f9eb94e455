"""The words of a notification: reference, agencies, service, purpose, what changed and a link.

Nothing about the person is ever put in: no name, date of birth, contact detail, reason, note,
message text or appointment place. A notification can be read over someone's shoulder.
The words are the catalogue's, in the recipient's language (app/services/notifications/wording.py).
"""

import uuid
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.config import get_settings
from app.models.directory import Agency, Purpose, Service
from app.models.referral import Referral
from app.services.notifications import wording
from app.services.notifications.wording import Compose, Words
from app.web import i18n
from app.web.i18n import N_
from app.web.labels import PURPOSES

SETTINGS_PATH = "/settings"


def footer(language: str = i18n.DEFAULT_LOCALE) -> str:
    """The last line of every notification about referrals: where to change what one is told."""
    return wording.footer(language, link_to(SETTINGS_PATH))


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
    # The agencies' and service's Welsh names, where they have them.
    from_agency_cy: str | None = None
    to_agency_cy: str | None = None
    service_cy: str | None = None

    @property
    def link(self) -> str:
        return link_to(f"/referrals/{self.id}")

    def in_language(self, language: str) -> dict[str, str]:
        """The names a notification's words may use, as that language has them."""
        welsh = language == "cy"
        return {
            "reference": self.reference,
            "from_agency": (welsh and self.from_agency_cy) or self.from_agency,
            "to_agency": (welsh and self.to_agency_cy) or self.to_agency,
            "service": (welsh and self.service_cy) or self.service,
            "purpose": i18n.gettext_in(language, PURPOSES.get(Purpose(self.purpose), self.purpose)),
        }


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
            col(sender.name_cy),
            col(receiver.name_cy),
            col(Service.name_cy),
        )
        .join(sender, col(sender.id) == col(Referral.from_agency_id))
        .join(receiver, col(receiver.id) == col(Referral.to_agency_id))
        .join(Service, col(Service.id) == col(Referral.to_service_id))
        .where(col(Referral.id) == referral_id)
    )
    row = (await session.execute(query)).one()
    return ReferralNames(row[0], row[1], str(row[2].value), *row[3:])


def about(names: ReferralNames, headline: Words, change: Words) -> Compose:
    """How to write a notification about one referral (subject line and body) in a language."""

    def compose(language: str) -> tuple[str, str]:
        named = names.in_language(language)
        said = partial(i18n.gettext_in, language)
        title = headline.said_in(language, **named)
        body = [
            title,
            "",
            said(N_("Referral: %(reference)s"), **named),
            said(N_("From: %(from_agency)s"), **named),
            said(N_("To: %(to_agency)s (%(service)s)"), **named),
            said(N_("Purpose: %(purpose)s"), **named),
            said(N_("What changed: %(change)s"), change=change.said_in(language, **named)),
            "",
            said(N_("Open the referral: %(link)s"), link=names.link),
            "",
            footer(language),
        ]
        return f"{names.reference}: {title}"[:200], "\n".join(body)

    return compose
