"""Outcomes: what happened for the person, recorded by either agency and returned to the referrer."""

from sqlalchemy import Update, case, create_mock_engine, distinct, func, make_url, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict
from app.models.directory import Purpose
from app.models.events import EventType
from app.models.outcome import (
    FITTING_OUTCOMES,
    JOB_CHECKS,
    OUTCOME_BITS,
    Outcome,
    OutcomeCreate,
    OutcomeKind,
    OutcomePublic,
    OutcomeType,
    outcome_kind,
)
from app.models.referral import Referral, ReferralStatus
from app.persistence import idempotency
from app.persistence.rows import table_of
from app.security import agency_of
from app.services import follow_ups, notifications, referrals
from app.services.referrals import PartyAccess, read_state

_REFERRALS = table_of(Referral)
_ROLLUP = tuple(
    _REFERRALS.c[name] for name in ("outcome_count", "outcome_types", "first_outcome_on", "updated_at")
)
# Outcomes follow service delivery: after acceptance, and still long after completion.
RECORDABLE = frozenset(
    {
        ReferralStatus.ACCEPTED,
        ReferralStatus.HANDOVER_SCHEDULED,
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.COMPLETED,
    }
)


async def record(
    session: AsyncSession, access: PartyAccess, body: OutcomeCreate, claim: idempotency.Claim | None
) -> OutcomePublic:
    """Record an outcome for an accepted (or completed) referral."""
    referral, principal = access.referral, access.principal
    if referral.status not in RECORDABLE:
        raise Conflict(
            f"Outcomes are recorded once a referral is accepted; this one is {referral.status.value}."
        )
    outcome = _new_outcome(access, body)
    session.add(outcome)
    await _count(session, referral, outcome)
    referrals.audit_for(
        session,
        principal,
        "outcome.recorded",
        referral,
        ("outcome", outcome.id),
        {"type": body.type.value, "kind": outcome.kind.value},
    )
    follow_ups.schedule_for_outcome(session, principal, referral, outcome)
    referrals.emit_for(session, EventType.OUTCOME_RECORDED, referral)
    await notifications.outcome_recorded(session, referral, principal, body.type.value)
    public = OutcomePublic.model_validate(outcome)
    idempotency.remember(claim, 201, public, {"Location": f"/v1/referrals/{referral.id}/outcomes"})
    return public


def _new_outcome(access: PartyAccess, body: OutcomeCreate) -> Outcome:
    principal = access.principal
    return Outcome.model_validate(
        body,
        update={
            "referral_id": access.referral.id,
            "kind": outcome_kind(body.type),
            "recorded_by_agency_id": agency_of(principal),
            "recorded_by": principal.id,
        },
    )


async def _count(session: AsyncSession, referral: Referral, outcome: Outcome) -> None:
    # Updated in SQL, so two outcomes recorded at once are both counted.
    first = _REFERRALS.c.first_outcome_on
    counted = (
        update(_REFERRALS)
        .where(_REFERRALS.c.id == referral.id)
        .values(
            outcome_count=_REFERRALS.c.outcome_count + 1,
            outcome_types=_REFERRALS.c.outcome_types.op("|")(OUTCOME_BITS[outcome.type]),
            first_outcome_on=case(
                (or_(first.is_(None), first > outcome.occurred_on), outcome.occurred_on), else_=first
            ),
            updated_at=utcnow(),
        )
        .returning(*_ROLLUP)
    )
    found = (await session.execute(counted)).one()
    for column in _ROLLUP:
        set_committed_value(referral, column.key, found._mapping[column])
    read_state.touch(referral, outcome.recorded_by_agency_id)


def rollup_sql() -> str:
    """The rollup as PostgreSQL text, for bulk loaders that speak to the server directly."""
    dialect = create_mock_engine(make_url("postgresql+asyncpg://"), executor=print).dialect
    return str(rollup_statement().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def rollup_statement() -> Update:
    """Recompute every referral's outcome rollup from the outcomes table (after bulk loads)."""
    bit = case({t.value: b for t, b in OUTCOME_BITS.items()}, value=col(Outcome.type), else_=0)
    theirs = col(Outcome.referral_id) == col(Referral.id)
    # The sum of the distinct bits present is their bitwise OR, in SQLite as in PostgreSQL.
    types = select(func.coalesce(func.sum(distinct(bit)), 0)).where(theirs).scalar_subquery()
    first = select(func.min(col(Outcome.occurred_on))).where(theirs).scalar_subquery()
    rolled_up = {"outcome_types": types, "first_outcome_on": first}
    return update(Referral).where(col(Referral.outcome_count) > 0).values(rolled_up)


def choices_for(purpose: Purpose) -> list[tuple[str, list[OutcomeType]]]:
    """The outcome types to offer in groups: those fitting the purpose, then hard, soft and job checks."""
    fitting = list(FITTING_OUTCOMES.get(purpose, ()))
    rest = [t for t in OutcomeType if t not in fitting and t not in JOB_CHECKS]
    groups = [
        ("fitting", fitting),
        ("hard", [t for t in rest if outcome_kind(t) == OutcomeKind.HARD]),
        ("soft", [t for t in rest if outcome_kind(t) == OutcomeKind.SOFT]),
        ("job_checks", list(JOB_CHECKS)),
    ]
    return [(name, types) for name, types in groups if types]


async def list_for(session: AsyncSession, access: PartyAccess) -> list[OutcomePublic]:
    """Every outcome of the referral, oldest first."""
    referral = access.referral
    query = select(Outcome).where(col(Outcome.referral_id) == referral.id)
    rows = (await session.execute(query.order_by(col(Outcome.recorded_at), col(Outcome.id)))).scalars()
    referrals.audit_for(session, access.principal, "outcome.listed", referral)
    return [OutcomePublic.model_validate(o) for o in rows]
