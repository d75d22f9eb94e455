"""Figures worth showing: a journey across three agencies with a job entry old enough to follow up."""

from datetime import date, timedelta

import httpx

from tests.support.journeys import Journey, make_journey
from tests.support.referral_helpers import make_network


async def journey_with_a_job(partner: httpx.AsyncClient) -> Journey:
    """Children's centre to Jobcentre Plus, on to debt advice; Jobcentre Plus records a job that
    started 30 weeks ago, so its checks at 13 and 26 weeks are both due."""
    journey = await make_journey(partner, await make_network())
    job = {"type": "job_entry", "occurred_on": (date.today() - timedelta(weeks=30)).isoformat()}
    recorded = await partner.post(
        f"/v1/referrals/{journey.first['id']}/outcomes", json=job, headers=journey.net.outsider_headers
    )
    assert recorded.status_code == 201, recorded.text
    return journey
