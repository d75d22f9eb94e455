"""The published directory (Open Referral UK) with a thousand services: list pages, a full service,
and proximity searches from a postcode, against a target of p99 under 50 ms.

Services are bulk-inserted with set-based SQL across the demo agencies, each with a place (a
third with two) scattered over North Wales, half with coordinates of their own and half placed at
their postcode's centroid, and a centroid for every postcode used.
"""

import functools
import random
import time

import asyncpg
import httpx

from bench.stats import Sample, timed

FEED = "/openreferral/v3"
SEARCH_FROM = ("LL13 9AA", 53.0400, -2.9800)  # the searches' postcode and its centroid
PURPOSES = (
    "better_off_calculation",
    "job_search_support",
    "training_and_skills",
    "esol",
    "childcare_support",
    "debt_advice",
    "benefits_advice",
    "housing_support",
    "family_support",
    "volunteering",
    "mental_health_support",
)

SERVICES = """
INSERT INTO services (id, agency_id, name, name_cy, description, description_cy, eligibility, languages,
                      area_served, accepting_referrals, response_target_days, opening_hours, search_text,
                      created_at, updated_at)
SELECT md5('feed-service' || g)::uuid,
       (ARRAY(SELECT id FROM agencies ORDER BY id))[1 + g % (SELECT count(*) FROM agencies)],
       'Community service ' || g, CASE WHEN g % 3 = 0 THEN 'Gwasanaeth cymunedol ' || g END,
       'Support for families in North Wales, service ' || g || '.', NULL, '', '["en", "cy"]'::jsonb,
       '[]'::jsonb, g % 4 <> 0, 10, 'Monday to Friday', 'community service ' || g, now(), now()
FROM generate_series(1, $1::int) AS g
"""

PURPOSE_LINKS = """
INSERT INTO service_purposes (service_id, purpose)
SELECT md5('feed-service' || g)::uuid, ($2::text[])[1 + g % cardinality($2::text[])]
FROM generate_series(1, $1::int) AS g
"""

# Postcodes of the form LL<10-29> <digit><letter><letter>, one per place.
POSTCODE = "'LL' || (10 + n % 20) || ' ' || (n % 10) || chr(65 + n % 26) || chr(65 + (n / 26) % 26)"

PLACES = """
CREATE TEMP TABLE bench_places AS
SELECT n, md5('feed-service' || g)::uuid AS service_id, k AS position,
       {postcode} AS postcode, 52.80 + random() * 0.60 AS latitude, -3.60 + random() * 0.90 AS longitude
FROM generate_series(1, $1::int) AS g
CROSS JOIN LATERAL (SELECT generate_series(0, CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END) AS k) AS places
CROSS JOIN LATERAL (SELECT g * 2 + k AS n) AS numbered
""".replace("{postcode}", POSTCODE)

LOCATIONS = """
INSERT INTO service_locations (id, service_id, position, name, address_1, address_2, town, postcode,
                               latitude, longitude, created_at, updated_at)
SELECT md5('feed-place' || n)::uuid, service_id, position, 'Community hub ' || n, n || ' High Street', '',
       'Wrexham', postcode, CASE WHEN n % 2 = 0 THEN latitude END, CASE WHEN n % 2 = 0 THEN longitude END,
       now(), now()
FROM bench_places
"""

CENTROIDS = """
INSERT INTO postcode_centroids (postcode, latitude, longitude)
SELECT DISTINCT ON (postcode) postcode, latitude, longitude FROM bench_places
UNION ALL SELECT $1, $2, $3
ON CONFLICT (postcode) DO NOTHING
"""


async def seed(dsn: dict[str, object], count: int) -> None:
    """Add `count` services with places and their postcodes' centroids, in one transaction."""
    conn = await asyncpg.connect(**dsn)
    try:
        await conn.execute("SELECT setseed(0.7)")
        async with conn.transaction():
            await conn.execute(SERVICES, count)
            await conn.execute(PURPOSE_LINKS, count, list(PURPOSES))
            await conn.execute(PLACES, count)
            await conn.execute(LOCATIONS)
            await conn.execute(CENTROIDS, *SEARCH_FROM)
        await conn.execute("ANALYZE services, service_purposes, service_locations, postcode_centroids")
    finally:
        await conn.close()


async def _measure(http: httpx.AsyncClient, name: str, urls: list[str]) -> Sample:
    """Sequential requests, one per URL: latency without queueing behind our own."""
    sample = Sample(name)

    async def call(url: str) -> bool:
        return (await http.get(url)).status_code == 200

    started = time.perf_counter()
    for url in urls:
        await timed(sample, functools.partial(call, url))
    sample.wall = time.perf_counter() - started
    return sample


async def samples(http: httpx.AsyncClient, n: int) -> list[Sample]:
    """List pages in a random order, one service in full, and proximity searches."""
    first = (await http.get(f"{FEED}/services", params={"per_page": 50})).raise_for_status().json()
    pages, ids = first["total_pages"], [s["id"] for s in first["contents"]]
    chosen = random.Random(42)
    near = f"postcode={SEARCH_FROM[0].replace(' ', '+')}"
    scenarios = {
        "feed: services?page=": [f"{FEED}/services?page={chosen.randint(1, pages)}" for _ in range(n)],
        "feed: services/{id}": [f"{FEED}/services/{chosen.choice(ids)}" for _ in range(n)],
        "feed: proximity 10 km": [f"{FEED}/services?{near}&proximity=10000"] * n,
        "feed: places 10 km": [f"{FEED}/service_at_locations?{near}&proximity=10000"] * n,
    }
    return [await _measure(http, name, urls) for name, urls in scenarios.items()]
