"""Follow-ups to work through the pages: a job entry's two checks and a person to take back."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.follow_up import FollowUp, FollowUpKind
from tests.support.referral_helpers import Network, create_referral, move, subject_body

# A job started 14 weeks ago: its 13-week check is a week overdue, its 26-week one 12 weeks off.
JOB_STARTED = date.today() - timedelta(weeks=14)


@dataclass
class FollowUps:
    job_referral: dict[str, Any]
    week_13: FollowUp
    week_26: FollowUp
    back_referral: dict[str, Any]
    resume: FollowUp


async def stored() -> list[FollowUp]:
    async with get_sessionmaker()() as session:
        query = select(FollowUp).order_by(col(FollowUp.due_on), col(FollowUp.id))
        return list((await session.execute(query)).scalars())


async def one(follow_up_id: object) -> FollowUp:
    (found,) = [f for f in await stored() if f.id == follow_up_id]
    return found


async def make_follow_ups(partner: httpx.AsyncClient, net: Network) -> FollowUps:
    """The debt agency's two job checks, and the children's centre's person to take back."""
    job = await create_referral(partner, net)
    assert (await move(partner, job, net.debt_headers, "accepted")).status_code == 200
    recorded = await partner.post(
        f"/v1/referrals/{job['id']}/outcomes",
        json={"type": "job_entry", "occurred_on": JOB_STARTED.isoformat()},
        headers=net.debt_headers,
    )
    assert recorded.status_code == 201, recorded.text
    back = await create_referral(
        partner, net, return_to_referrer=True, subject=subject_body(given_name="Nia", family_name="Sample")
    )
    declined = await move(partner, back, net.debt_headers, "declined", reason_code="no_capacity")
    assert declined.status_code == 200, declined.text
    kinds = {f.kind: f for f in await stored()}
    return FollowUps(
        job,
        kinds[FollowUpKind.JOB_SUSTAINMENT_13_WEEKS],
        kinds[FollowUpKind.JOB_SUSTAINMENT_26_WEEKS],
        back,
        kinds[FollowUpKind.RESUME_SUPPORT],
    )
