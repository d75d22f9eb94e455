"""Everything the referral page shows, read through the same services as the API."""

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.consent import ConsentPublic, ConsentStatus, DataCategory
from app.models.directory import Service
from app.models.follow_up import FollowUpPublic
from app.models.identity import Scope
from app.models.message import MessagePublic
from app.models.outcome import OutcomePublic
from app.models.referral import OPEN_STATUSES, ReferralPublic, ReferralStatus, StatusChangePublic
from app.models.report import UNDECIDED_STATUSES
from app.services import consents, directory, follow_ups, messages, outcomes, referrals
from app.services.referrals import PartyAccess, assignment
from app.services.referrals.assignment import Colleague
from app.services.workflow import Party
from app.web.names import agency_names

# Moves made by a button that posts at once; the others open a page that asks for details.
DIRECT_MOVES = (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED)
# Moves that tell the other agency something it acts on: the button asks to confirm first.
CONFIRMED_MOVES = (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)
MOVE_PAGES = {
    ReferralStatus.DECLINED: "decline",
    ReferralStatus.HANDOVER_SCHEDULED: "schedule",
    ReferralStatus.CANCELLED: "cancel",
}


@dataclass(frozen=True, slots=True)
class ReferralView:
    """A referral as one of its two parties sees it."""

    referral: ReferralPublic
    party: Party
    consent: ConsentPublic
    service: Service
    history: list[StatusChangePublic]
    outcomes: list[OutcomePublic]
    messages: list[MessagePublic]
    agencies: dict[uuid.UUID, str]
    can_write: bool
    viewer_id: str
    # The viewer's agency's own follow-ups on the referral (the other party's are not shown).
    follow_ups: list[FollowUpPublic] = field(default_factory=list)

    def covers(self, category: str) -> bool:
        """Whether the consent lets the receiving agency see this part of the person's details."""
        return DataCategory(category) in self.consent.data_categories

    @property
    def overdue(self) -> bool:
        """Still awaiting a decision after the service's response time."""
        return self.referral.status in UNDECIDED_STATUSES and self.referral.due_by < utcnow()

    confirmed_moves = CONFIRMED_MOVES

    @property
    def direct_moves(self) -> list[ReferralStatus]:
        return [s for s in DIRECT_MOVES if s in self.referral.allowed_actions]

    @property
    def page_moves(self) -> list[tuple[ReferralStatus, str]]:
        return [(s, page) for s, page in MOVE_PAGES.items() if s in self.referral.allowed_actions]

    @property
    def can_take(self) -> bool:
        """The receiving agency's caseworker may take an open referral no one has given them."""
        mine = self.referral.assigned_to is not None and str(self.referral.assigned_to.id) == self.viewer_id
        open_ = self.referral.status in OPEN_STATUSES
        return self.can_write and self.party == Party.RECEIVER and open_ and not mine

    @property
    def can_record_outcome(self) -> bool:
        return self.can_write and self.referral.status in outcomes.RECORDABLE

    @property
    def can_change_appointment(self) -> bool:
        scheduled = self.referral.status == ReferralStatus.HANDOVER_SCHEDULED
        return self.can_write and self.party == Party.RECEIVER and scheduled

    @property
    def can_record_withdrawal(self) -> bool:
        """The person told this agency they withdraw their consent: either party records it."""
        in_force = self.consent.status == ConsentStatus.IN_FORCE
        return self.can_write and in_force and self.referral.status in OPEN_STATUSES

    @property
    def can_refer_onward(self) -> bool:
        """The receiver may refer the person on, unless they withdrew their consent."""
        withdrawn = self.referral.status == ReferralStatus.WITHDRAWN
        return self.can_write and self.party == Party.RECEIVER and not withdrawn

    @property
    def can_message(self) -> bool:
        return self.can_write and self.referral.status != ReferralStatus.WITHDRAWN


async def read(session: AsyncSession, access: PartyAccess) -> ReferralView:
    """The referral, its consent, history, outcomes and messages; each read is audited."""
    public = await referrals.view_and_stamp(session, access)
    consent = await consents.read(session, access.principal, public.consent_id)
    return ReferralView(
        referral=public,
        party=access.party,
        consent=consent,
        service=await directory.get_service(session, public.to_service_id),
        history=await referrals.history(session, access),
        outcomes=await outcomes.list_for(session, access),
        messages=await messages.list_for(session, access),
        agencies=await agency_names(session),
        can_write=access.principal.has(Scope.REFERRALS_WRITE),
        viewer_id=access.principal.id,
        follow_ups=await follow_ups.list_for_referral(session, access),
    )


@dataclass(frozen=True, slots=True)
class Assigning:
    """Whom the receiving team can give the referral to, and who has it now (away or not)."""

    team: list[Colleague]
    assignee: Colleague | None


async def assigning(session: AsyncSession, access: PartyAccess) -> Assigning | None:
    """For the receiving agency's staff who change referrals, while the referral is open; the
    sender learns nothing of the receiving team's absences."""
    referral, principal = access.referral, access.principal
    writer = principal.has(Scope.REFERRALS_WRITE)
    if access.party != Party.RECEIVER or not writer or referral.status not in OPEN_STATUSES:
        return None
    held = referral.assigned_to_user_id
    assignee = await assignment.colleague(session, principal, held) if held else None
    return Assigning(await assignment.team(session, principal), assignee)


async def summary(session: AsyncSession, access: PartyAccess) -> ReferralPublic:
    """The referral alone, for the pages that ask for a move's details."""
    return await referrals.view_and_stamp(session, access)
