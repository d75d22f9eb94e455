"""Sample referrals between the demo agencies, so that every inbox, sent list, follow-up list and
figure of the demo has something in it.

One referral ends in each state, with messages, hard and soft outcomes, a family's journey with
an onward referral, and follow-ups: a 13-week job check due, a 26-week one coming, and a family
handed back to the agency that referred them on. Each is made by the demo caseworkers through the
services the API uses, so its audit trail, the person's record on it and its notifications are as
real ones are. A sample is known again by its sender and its reason: seeding twice makes none twice.

The people are fictional: Ofcom's drama numbers (07700 900xxx) and Wrexham postcodes.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.consent import ConsentCreate, ConsentMethod, ConsentWithdrawal, DataCategory, LawfulBasis
from app.models.directory import Agency, Purpose, Service
from app.models.identity import User
from app.models.message import MessageCreate
from app.models.outcome import OutcomeCreate, OutcomeType
from app.models.referral import (
    Appointment,
    AssignmentRequest,
    HandoverMode,
    Referral,
    ReferralCreate,
    ReferralStatus,
    TransitionRequest,
    Urgency,
)
from app.models.subject import Circumstances, PreferredContact, SubjectCreate
from app.security import Principal
from app.services import consents, identity, messages, outcomes, referrals
from app.services.referrals import PartyAccess

Status = ReferralStatus
UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    born: date
    postcode: str
    phone: str
    language: str = "en"
    lone_parent: bool | None = None
    benefits: tuple[str, ...] = ()
    barriers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Move:
    """A move by the receiver (or, `by_sender`, the sender); `appointment` books one 3 days ahead."""

    to: ReferralStatus
    reason_code: str | None = None
    note: str | None = None
    appointment: bool = False
    by_sender: bool = False


@dataclass(frozen=True)
class Say:
    text: str
    by_sender: bool = False


@dataclass(frozen=True)
class Record:
    type: OutcomeType
    days_ago: int
    note: str


@dataclass(frozen=True)
class Assign:
    """The receiving team's caseworker (`caseworker` or `caseworker2`) takes it."""

    who: str


@dataclass(frozen=True)
class Read:
    """The receiver opens it (its first view is stamped, as the page and the API do)."""


@dataclass(frozen=True)
class Withdraw:
    """The sender records that the person withdrew their consent."""

    reason: str


Step = Move | Say | Record | Assign | Read | Withdraw


@dataclass(frozen=True)
class Sample:
    sender: str  # the agencies' demo slugs
    receiver: str
    purpose: Purpose
    person: Person
    reason: str  # also how the sample is known on the next run
    steps: tuple[Step, ...] = ()
    urgency: Urgency = Urgency.ROUTINE
    handover: HandoverMode = HandoverMode.WARM_INTRODUCTION
    also_consented: tuple[Purpose, ...] = ()
    onward: "Sample | None" = None  # made by this sample's receiver, for the same person
    return_to_referrer: bool = False


RHIAN = Person(
    "Rhian",
    "Example",
    date(1992, 6, 27),
    "LL13 8NE",
    "07700 900239",
    lone_parent=True,
    benefits=("universal_credit",),
    barriers=("debt", "childcare"),
)
READ_AND_ACCEPT: tuple[Step, ...] = (Read(), Move(Status.ACCEPTED))
JOB_STARTED = 13 * 7 + 3  # days ago: the 13-week check fell due three days ago, the 26-week one is ahead

SAMPLES = (
    Sample(
        "hv",
        "debt",
        Purpose.DEBT_ADVICE,
        Person(
            "Cerys",
            "Example",
            date(1996, 7, 14),
            "LL11 3AB",
            "07700 900214",
            lone_parent=True,
            benefits=("universal_credit",),
            barriers=("debt",),
        ),
        "Catalogue and doorstep-loan debts since the baby was born; she is frightened to open the post.",
        (Say("She is happy for you to ring; mornings are best, the baby sleeps then.", by_sender=True),),
        urgency=Urgency.SOON,
    ),
    Sample(
        "cc",
        "jcp",
        Purpose.BETTER_OFF_CALCULATION,
        Person(
            "Dylan",
            "Sample",
            date(1991, 11, 2),
            "LL13 7TU",
            "07700 900351",
            benefits=("universal_credit",),
            barriers=("childcare",),
        ),
        "Has been offered 20 hours a week at the garden centre; wants to know if he would be better off.",
        (Read(), Move(Status.RECEIVED)),
    ),
    Sample(
        "jcp",
        "cf",
        Purpose.TRAINING_AND_SKILLS,
        Person("Megan", "Example", date(1999, 2, 23), "LL14 1EH", "07700 900462", barriers=("skills",)),
        "Wants a food hygiene certificate so she can apply for kitchen jobs.",
        (
            *READ_AND_ACCEPT,
            Assign("caseworker"),
            Say("The next Level 2 course starts on Monday; there is a place for her."),
            Say("Thank you. She has the Monday free and will be there.", by_sender=True),
        ),
    ),
    Sample(
        "cf",
        "hv",
        Purpose.HEALTH_VISITING,
        Person("Tom", "Sample", date(1988, 5, 9), "LL12 8DS", "07700 900573"),
        "Worried about his seven-year-old's sleep since the family moved.",
        (
            Read(),
            Move(
                Status.DECLINED,
                reason_code="not_eligible",
                note="Health visiting is for families with children under five. The school nurse can help.",
            ),
        ),
    ),
    Sample(
        "cc",
        "debt",
        Purpose.DEBT_ADVICE,
        Person(
            "Siân",
            "Example",
            date(1993, 9, 30),
            "LL13 9AA",
            "07700 900684",
            language="cy",
            lone_parent=True,
            benefits=("universal_credit",),
            barriers=("debt", "childcare"),
        ),
        "Rent arrears since her hours were cut; the landlord has written. She would like to talk in Welsh.",
        (
            *READ_AND_ACCEPT,
            Assign("caseworker2"),
            Move(Status.HANDOVER_SCHEDULED, appointment=True),
            Say("Booked at the centre with a Welsh-speaking adviser; please let her know."),
        ),
        urgency=Urgency.URGENT,
        handover=HandoverMode.JOINT_APPOINTMENT,
    ),
    Sample(
        "hv",
        "cc",
        Purpose.CHILDCARE_SUPPORT,
        Person(
            "Aled",
            "Sample",
            date(1990, 1, 17),
            "LL11 4HY",
            "07700 900795",
            language="cy",
            lone_parent=True,
            barriers=("childcare",),
        ),
        "A lone dad starting college in September; needs nursery hours for his two-year-old.",
        (
            *READ_AND_ACCEPT,
            Move(Status.IN_PROGRESS),
            Assign("caseworker"),
            Record(OutcomeType.ENGAGED_WITH_SERVICE, 2, "Came to stay and play and met the nursery manager."),
        ),
    ),
    Sample(
        "cf",
        "jcp",
        Purpose.JOB_SEARCH_SUPPORT,
        Person("Owain", "Sample", date(1986, 12, 5), "LL12 7AG", "07700 900806", barriers=("confidence",)),
        "Finished the confidence course with us and is ready to look for warehouse work.",
        (
            *READ_AND_ACCEPT,
            Move(Status.IN_PROGRESS),
            Record(OutcomeType.JOB_ENTRY, JOB_STARTED, "Started full time at the distribution centre."),
            Record(OutcomeType.CONFIDENCE_IMPROVED, JOB_STARTED, "Says he feels like himself again."),
            Move(Status.COMPLETED, note="In work; we will check in at 13 and 26 weeks."),
        ),
    ),
    Sample(
        "debt",
        "hv",
        Purpose.MENTAL_HEALTH_SUPPORT,
        Person("Ffion", "Example", date(1997, 4, 11), "LL14 6LP", "07700 900917", language="cy"),
        "Low mood since her son was born; money worries are making it worse.",
        (
            Move(
                Status.CANCELLED,
                reason_code="referred_elsewhere",
                note="Her GP has referred her to the perinatal team instead.",
                by_sender=True,
            ),
        ),
    ),
    Sample(
        "cc",
        "cf",
        Purpose.ESOL,
        Person("Gwen", "Sample", date(1995, 8, 19), "LL11 2RS", "07700 900128", barriers=("language",)),
        "Would like English classes near the children's school.",
        (*READ_AND_ACCEPT, Withdraw("She asked us to stop sharing her details.")),
    ),
    Sample(
        "cc",
        "jcp",
        Purpose.JOB_SEARCH_SUPPORT,
        RHIAN,
        "Ready to look for school-hours work now her youngest has started nursery.",
        (
            *READ_AND_ACCEPT,
            Move(Status.IN_PROGRESS),
            Say("Council tax arrears came up at her first appointment; we are referring her to debt advice."),
        ),
        also_consented=(Purpose.DEBT_ADVICE,),
        onward=Sample(
            "jcp",
            "debt",
            Purpose.DEBT_ADVICE,
            RHIAN,  # as the parent referral's sender holds her details, under the consent she gave it
            "Council tax arrears are in the way of her starting work; we would like her back afterwards.",
            (
                *READ_AND_ACCEPT,
                Record(OutcomeType.DEBT_PLAN_AGREED, 1, "Affordable plan agreed with the council."),
                Move(Status.COMPLETED),
            ),
            return_to_referrer=True,
        ),
    ),
)


@dataclass
class Demo:
    """The demo network as the samples need it: each agency's service, and its staff as principals."""

    services: dict[str, Service]
    staff: dict[str, Principal]

    def as_(self, slug: str, who: str = "caseworker") -> Principal:
        return self.staff[f"{slug}.{who}"]


async def seed(session: AsyncSession, agencies: dict[str, Agency], services: dict[str, Service]) -> None:
    """Make each sample that is not there yet, with everything that happens to it."""
    demo = Demo(services, await _staff(session, agencies))
    for sample in SAMPLES:
        await _make(session, demo, sample)


async def _staff(session: AsyncSession, agencies: dict[str, Agency]) -> dict[str, Principal]:
    ids = [agency.id for agency in agencies.values()]
    found = await session.execute(select(User).where(col(User.agency_id).in_(ids)))
    return {user.username: identity.user_principal(user) for user in found.scalars()}


async def _make(session: AsyncSession, demo: Demo, sample: Sample, parent: uuid.UUID | None = None) -> None:
    sender = demo.as_(sample.sender)
    made = await _existing(session, sender, sample.reason)
    if made is None:
        made = (await referrals.create(session, sender, _body(demo, sample, parent), None)).id
        for step in sample.steps:
            await _take(session, demo, sample, made, step)
    if sample.onward is not None:
        await _make(session, demo, sample.onward, parent=made)


async def _existing(session: AsyncSession, sender: Principal, reason: str) -> uuid.UUID | None:
    query = select(col(Referral.id)).where(col(Referral.from_agency_id) == sender.agency_id)
    return (await session.execute(query.where(col(Referral.reason) == reason))).scalars().first()


def _body(demo: Demo, sample: Sample, parent: uuid.UUID | None) -> ReferralCreate:
    """As a caseworker sends it: the person and their consent, or, onward, the parent's."""
    values = {
        "to_service_id": demo.services[sample.receiver].id,
        "purpose": sample.purpose,
        "reason": sample.reason,
        "urgency": sample.urgency,
        "handover_mode": sample.handover,
        "return_to_referrer": sample.return_to_referrer,
    }
    if parent is not None:
        return ReferralCreate.model_validate(values | {"parent_referral_id": parent})
    person = {"subject": _subject(sample.person), "consent": _consent(sample)}
    return ReferralCreate.model_validate(values | person)


def _subject(person: Person) -> SubjectCreate:
    circumstances = Circumstances(
        lone_parent=person.lone_parent, benefits=list(person.benefits), barriers=list(person.barriers)
    )
    return SubjectCreate(
        given_name=person.given,
        family_name=person.family,
        date_of_birth=person.born,
        postcode=person.postcode,
        phone=person.phone,
        preferred_contact=PreferredContact.PHONE,
        language=person.language,
        circumstances=circumstances,
    )


def _consent(sample: Sample) -> ConsentCreate:
    return ConsentCreate(
        given_by="subject",
        method=ConsentMethod.VERBAL,
        given_at=datetime.now(UTC) - timedelta(minutes=10),
        lawful_basis=LawfulBasis.CONSENT,
        purposes=[sample.purpose, *sample.also_consented],
        data_categories=[DataCategory.CONTACT, DataCategory.CIRCUMSTANCES],
    )


async def _take(
    session: AsyncSession, demo: Demo, sample: Sample, referral_id: uuid.UUID, step: Step
) -> None:
    """One thing that happens to a sample, done by the caseworker whose part it is."""
    by_sender = isinstance(step, Withdraw) or (isinstance(step, Move | Say) and step.by_sender)
    access = await _access(session, demo.as_(sample.sender if by_sender else sample.receiver), referral_id)
    if isinstance(step, Move):
        await referrals.transition(session, access, _transition(step), "*")
    elif isinstance(step, Say):
        await messages.post(session, access, MessageCreate(body=step.text), None)
    elif isinstance(step, Record):
        await outcomes.record(session, access, _outcome(step), None)
    elif isinstance(step, Assign):
        colleague = uuid.UUID(demo.as_(sample.receiver, step.who).id)
        await referrals.assign(session, access, AssignmentRequest(user_id=colleague))
    elif isinstance(step, Read):
        await referrals.view_and_stamp(session, access)
    else:
        withdrawal = ConsentWithdrawal(reason=step.reason)
        await consents.withdraw(session, access.principal, access.referral.consent_id, withdrawal)


async def _access(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> PartyAccess:
    return await referrals.load_for_party(session, principal, referral_id)


def _transition(move: Move) -> TransitionRequest:
    appointment = None
    if move.appointment:
        day = date.today() + timedelta(days=3)
        starts = datetime.combine(day, time(10, 30), tzinfo=UK)
        appointment = Appointment(
            starts_at=starts, location="Caia Park Children's Centre, room 2", with_whom="Debt adviser"
        )
    return TransitionRequest(
        to=move.to, reason_code=move.reason_code, note=move.note, appointment=appointment
    )


def _outcome(record: Record) -> OutcomeCreate:
    return OutcomeCreate(
        type=record.type, occurred_on=date.today() - timedelta(days=record.days_ago), note=record.note
    )
