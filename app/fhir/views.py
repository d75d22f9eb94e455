"""Each FHIR interaction as the service calls /v1 makes for the same thing, and their answers as FHIR.

A Task read is GET /v1/referrals/{id} (`view_and_stamp`: the receiver's first view stamped, the
view audited) and, when the referral has outcomes, its outcomes (`outcomes.list_for`, audited as
/v1 audits listing them). A search is a box listing (`list_box`, audited with the ids shown). A
PUT of a Task is a transition and the outcomes it adds; a Communication posted is a message.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.fhir import communication, consent, directory, person, referral, search, task_update
from app.fhir.bundles import SearchPage
from app.fhir.inbound import Entry, as_model, checked
from app.fhir.shapes import Json
from app.models.message import MessageCreate
from app.models.outcome import OutcomePublic
from app.models.referral import ReferralPublic
from app.pagination import decode_cursor, encode_cursor
from app.security import Principal, agency_of
from app.services import consents, messages, outcomes, people, referrals
from app.services import directory as listings
from app.services.referrals import PartyAccess

THREAD_LIST = "fhir-communications"


async def task(session: AsyncSession, access: PartyAccess) -> tuple[Json, ReferralPublic]:
    """The referral's Task, as its party sees it now (a view, as GET /v1/referrals/{id} is)."""
    public = await referrals.view_and_stamp(session, access)
    shown = await outcomes.list_for(session, access) if public.outcome_count else []
    return await _task(session, public, shown), public


async def _task(session: AsyncSession, public: ReferralPublic, shown: list[OutcomePublic]) -> Json:
    reasons = await referrals.status_reasons(
        session, [public.id] if public.status in referral.REASONED else []
    )
    return referral.task(public, shown, reasons.get(public.id))


async def service_request(session: AsyncSession, access: PartyAccess) -> tuple[Json, ReferralPublic]:
    public = await referrals.view_and_stamp(session, access)
    return referral.service_request(public), public


async def party_access(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID | None, missing: str
) -> PartyAccess:
    """The referral for one of its parties; anyone else is told only that `missing` was not found."""
    try:
        return await referrals.load_for_party(session, principal, referral_id or uuid.UUID(int=0))
    except NotFound:
        raise NotFound(f"{missing} not found.") from None


async def patient(
    session: AsyncSession, principal: Principal, record_id: uuid.UUID
) -> tuple[Json, ReferralPublic]:
    """The person as shared with the referral whose record this is (a view of that referral)."""
    referral_id = await people.referral_of_record(session, record_id)
    access = await party_access(session, principal, referral_id, f"Patient {record_id}")
    public = await referrals.view_and_stamp(session, access)
    return person.patient(public.subject, public.version, public.created_at), public


async def consent_resource(session: AsyncSession, principal: Principal, consent_id: uuid.UUID) -> Json:
    """The consent as the caller's agency may see it (GET /v1/consents/{id})."""
    public = await consents.read(session, principal, consent_id)
    first = await people.first_record_under_consent(session, principal.agency_id, consent_id)
    return consent.consent(public, first[0] if first else None, first[1] if first else None)


async def update_task(
    session: AsyncSession, access: PartyAccess, body: Json, if_match: str | None, paths: dict[str, str]
) -> tuple[Json, ReferralPublic]:
    """A PUT of the Task: If-Match checked first, then the move and the new outcomes, as one change.

    Outcomes are recorded after the move, except when the move completes the referral, which
    needs an outcome first.
    """
    await referrals.lock_current(session, access.referral, if_match)
    shown = await outcomes.list_for(session, access) if access.referral.outcome_count else []
    change = task_update.read(body, access.referral.status, {str(o.id) for o in shown}, paths)
    public = None
    if change.move and not change.completes:
        public = await referrals.transition(session, access, change.move, if_match)
    for outcome in change.outcomes:
        shown.append(await outcomes.record(session, access, outcome, None))
    if change.move and change.completes:
        public = await referrals.transition(session, access, change.move, if_match)
    public = public or referrals.to_public(access.referral, access.principal, access.party)
    return await _task(session, public, shown), public


async def referral_search(
    session: AsyncSession, principal: Principal, scope: search.Scope | None, cursor: str | None, limit: int
) -> tuple[list[ReferralPublic], str | None]:
    """A page of the caller's referrals in scope (none when the scope can match nothing)."""
    if scope is None:
        return [], None
    page = await referrals.list_box(session, principal, scope.box, scope.filters, cursor=cursor, limit=limit)
    return page.items, page.next_cursor


async def task_page(
    session: AsyncSession, listed: tuple[list[ReferralPublic], str | None], include_focus: bool
) -> SearchPage:
    """Tasks of the referrals listed (their outputs left out: read the Task for them)."""
    items, next_cursor = listed
    reasons = await referrals.status_reasons(session, [p.id for p in items if p.status in referral.REASONED])
    matches = [referral.task(p, None, reasons.get(p.id)) for p in items]
    included = [referral.service_request(p) for p in items] if include_focus else []
    return SearchPage(matches, included, next_cursor)


async def post_communication(
    session: AsyncSession, principal: Principal, body: Json, paths: dict[str, str]
) -> Json:
    """A new message on the referral the Communication is based on (POST /v1/referrals/{id}/messages)."""
    entry = Entry(body, "Communication")
    checked(entry)
    access = await referrals.load_for_party(session, principal, communication.referral_of(entry))
    paths["body"] = "Communication.payload[0].contentString"
    message = as_model(MessageCreate, communication.message_body(entry, agency_of(principal)))
    posted = await messages.post(session, access, message, None)
    return communication.communication(posted, access.referral)


async def communication_resource(session: AsyncSession, principal: Principal, message_id: uuid.UUID) -> Json:
    """One message, read as /v1 reads messages: the thread of its referral, listed for a party."""
    referral_id = await messages.referral_of(session, message_id)
    access = await party_access(session, principal, referral_id, f"Communication {message_id}")
    thread = await messages.list_for(session, access)
    message = next(m for m in thread if m.id == message_id)
    return communication.communication(message, access.referral)


async def thread_page(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID, cursor: str | None, limit: int
) -> SearchPage:
    """The messages on a referral, oldest first; another agency's referral has none to show."""
    try:
        access = await referrals.load_for_party(session, principal, referral_id)
    except NotFound:
        return SearchPage([])
    thread = await messages.list_for(session, access)
    values = decode_cursor(THREAD_LIST, cursor, (int,))
    start = values[0] if values and isinstance(values[0], int) else 0
    shown = thread[start : start + limit]
    more = encode_cursor(THREAD_LIST, [start + limit]) if start + limit < len(thread) else None
    return SearchPage([communication.communication(m, access.referral) for m in shown], next_cursor=more)


async def organization_page(
    session: AsyncSession, name: listings.NameMatch | None, cursor: str | None, limit: int
) -> SearchPage:
    found, more = await listings.list_agencies(
        session, kind=None, local_authority=None, cursor=cursor, limit=limit, name=name
    )
    return SearchPage([directory.organization(a) for a in found], next_cursor=more)


async def service_page(
    session: AsyncSession, filters: listings.ServiceFilters, cursor: str | None, limit: int
) -> SearchPage:
    found, more = await listings.list_services(session, filters, cursor=cursor, limit=limit)
    return SearchPage([directory.healthcare_service(s) for s in found], next_cursor=more)
