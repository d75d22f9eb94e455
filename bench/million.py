"""Inbox and report latency with a million referrals in PostgreSQL.

Seeds the demo network through the CLI, then bulk-inserts people, consents, referrals and
outcomes with set-based SQL (generate_series): senders weighted towards Jobcentre Plus,
receivers spread over the other agencies, purposes the receiving service accepts, creation
times over three years, and a spread of statuses with matching decision and closing times.

Bulk-seeded rows bypass the application, so they have no audit events, no status-change
history and no partner events. The audit log is left as the demo seeding wrote it, so
`referral-exchange audit verify` still passes; the log simply does not mention them.

Every fourth referral is made onward from the one before it, so journeys have one or two
referrals; job entries have follow-ups at 13 and 26 weeks, a fifth of referrals have two
distance-travelled measures, and agencies record signposts besides referrals.

Also times creating referrals one after another, whose duplicate check must stay fast, the
staff pages advisers use most (the inbox, its search by name and by reference, its other orders,
a referral's page), signed in as a browser is, and the directory published as Open Referral UK
with a thousand services (list pages, a service in full, proximity searches from a postcode),
each against a target of p99 under 50 ms.

    python -m bench.million [--referrals 1000000] [--requests 400]
"""

import argparse
import asyncio
import os
import re
import time
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.services.outcomes import rollup_sql
from bench import demo as demo_network
from bench import directory_feed, server
from bench.stats import Sample, timed

INBOX_P99_TARGET = 0.020
STAFF_PAGE_P99_TARGET = 0.050
REPORT_TARGET = 1.0
SENDER_WEIGHTS = {"jcp": 0.35, "cc": 0.25, "cf": 0.15, "hv": 0.15, "debt": 0.10}

TARGETS_TABLE = """
CREATE TEMP TABLE bench_targets (
    idx int PRIMARY KEY, agency_id uuid, service_id uuid, purposes text[], target_days int, weight float8
)"""

# One row per referral to create: who sends it, to whom, when, and in what state it ends up.
PLAN = """
CREATE TEMP TABLE bench_plan AS
WITH picked AS (
    SELECT g, random() AS sender_draw, floor(random() * 4)::int AS hop,
           random() AS state_draw, now() - random() * interval '1095 days' AS created_at
    FROM generate_series(1, $1::int) AS g
), senders AS (
    SELECT p.*, (SELECT t.idx FROM bench_targets t
                 WHERE p.sender_draw < (SELECT sum(w.weight) FROM bench_targets w WHERE w.idx <= t.idx)
                 ORDER BY t.idx LIMIT 1) AS from_idx
    FROM picked p
)
SELECT s.g, s.created_at,
       md5('subject' || s.g)::uuid AS subject_id,
       md5('consent' || s.g)::uuid AS consent_id,
       md5('referral' || s.g)::uuid AS referral_id,
       f.agency_id AS from_agency_id, t.agency_id AS to_agency_id, t.service_id, t.target_days,
       t.purposes[1 + s.g % cardinality(t.purposes)] AS purpose,
       CASE WHEN s.state_draw < 0.40 THEN 'completed'
            WHEN s.state_draw < 0.50 THEN 'declined'
            WHEN s.state_draw < 0.57 THEN 'cancelled'
            WHEN s.state_draw < 0.60 THEN 'withdrawn'
            WHEN s.state_draw < 0.70 THEN 'in_progress'
            WHEN s.state_draw < 0.76 THEN 'handover_scheduled'
            WHEN s.state_draw < 0.86 THEN 'accepted'
            WHEN s.state_draw < 0.93 THEN 'received'
            ELSE 'submitted' END AS status
FROM senders s
JOIN bench_targets f ON f.idx = s.from_idx
JOIN bench_targets t ON t.idx = (s.from_idx + 1 + s.hop) % 5
"""

# A family name of its own for each person, in letters (Bulkbcd for 123): staff search names
# without digits, and a term with a digit is taken for a reference.
FAMILY = "'Bulk' || translate(g::text, '0123456789', 'abcdefghij')"

SUBJECTS = """
INSERT INTO subjects (id, given_name, family_name, date_of_birth, postcode, phone, email,
                      preferred_contact, language, needs_interpreter, circumstances,
                      recorded_by_agency_id, created_at, updated_at)
SELECT subject_id, (ARRAY['Natalie','Sian','Gareth','Aisha','Tomasz','Ffion','Dylan','Amira'])[1 + g % 8],
       {family}, date '1970-01-01' + (g % 12000), 'LL13 9AA', '07700900123', NULL, 'phone',
       CASE WHEN g % 9 = 0 THEN 'cy' ELSE 'en' END, g % 40 = 0,
       '{"lone_parent": true, "benefits": ["universal_credit"], "barriers": ["debt"]}'::jsonb,
       from_agency_id, created_at, created_at
FROM bench_plan
""".replace("{family}", FAMILY)

CONSENTS = """
INSERT INTO consents (id, subject_id, given_by, method, given_at, lawful_basis, purposes, data_categories,
                      recorded_by_agency_id, recorded_by, created_at, withdrawn_at, withdrawn_by_agency_id,
                      withdrawal_reason)
SELECT consent_id, subject_id, 'subject', 'verbal', created_at, 'consent', jsonb_build_array(purpose),
       '["contact", "circumstances"]'::jsonb, from_agency_id, 'bulk-seed', created_at,
       CASE WHEN status = 'withdrawn' THEN created_at + interval '9 days' END,
       CASE WHEN status = 'withdrawn' THEN from_agency_id END,
       CASE WHEN status = 'withdrawn' THEN 'Asked to stop' END
FROM bench_plan
"""

REFERRALS = """
INSERT INTO referrals (id, reference, purpose, reason, urgency, handover_mode, from_agency_id,
                       from_actor_kind, from_actor_id, to_agency_id, to_service_id, subject_id,
                       consent_id, status, due_by, first_viewed_at, decided_at, closed_at,
                       outcome_count, version, created_at, updated_at, journey_id)
SELECT referral_id, 'BULK-' || lpad(g::text, 9, '0'), purpose,
       'Bulk-seeded referral for load measurements.',
       (ARRAY['routine','soon','urgent'])[1 + g % 3],
       (ARRAY['warm_introduction','joint_appointment','referral_only'])[1 + g % 3],
       from_agency_id, 'client', 'bulk-seed', to_agency_id, service_id, subject_id, consent_id, status,
       created_at + make_interval(days => target_days),
       CASE WHEN status <> 'submitted' THEN created_at + interval '4 hours' END,
       CASE WHEN status NOT IN ('submitted', 'received', 'cancelled', 'withdrawn')
            THEN created_at + interval '2 days' END,
       CASE WHEN status IN ('completed', 'declined', 'cancelled', 'withdrawn')
            THEN created_at + interval '30 days' END,
       CASE WHEN status = 'completed' THEN 1 ELSE 0 END,
       CASE WHEN status = 'submitted' THEN 1 ELSE 3 END,
       created_at,
       created_at + CASE WHEN status = 'submitted' THEN interval '0' ELSE interval '30 days' END,
       md5('journey' || CASE WHEN g % 4 = 1 THEN g - 1 ELSE g END)::uuid
FROM bench_plan
"""

# Each referral's own record of the person, as its consent (contact and circumstances) shares it.
PEOPLE = """
INSERT INTO referral_people (id, referral_id, subject_id, given_name, family_name, date_of_birth, postcode,
                             phone, email, preferred_contact, language, needs_interpreter, circumstances,
                             created_at, updated_at)
SELECT md5('person' || g)::uuid, referral_id, subject_id,
       (ARRAY['Natalie','Sian','Gareth','Aisha','Tomasz','Ffion','Dylan','Amira'])[1 + g % 8],
       {family}, date '1970-01-01' + (g % 12000), 'LL13 9AA', '07700900123', NULL, 'phone',
       CASE WHEN g % 9 = 0 THEN 'cy' ELSE 'en' END, g % 40 = 0,
       '{"lone_parent": true, "benefits": ["universal_credit"], "barriers": ["debt"]}'::jsonb,
       created_at, created_at
FROM bench_plan
""".replace("{family}", FAMILY)

# Completion needs a recorded outcome, so every completed referral gets one.
OUTCOMES = """
INSERT INTO outcomes (id, referral_id, type, occurred_on, note, kind, recorded_by_agency_id, recorded_by,
                      recorded_at)
SELECT md5('outcome' || g)::uuid, referral_id,
       (ARRAY['job_entry','training_started','debt_plan_agreed','engaged_with_service',
              'confidence_improved'])[1 + g % 5],
       (created_at + interval '25 days')::date, NULL,
       CASE WHEN g % 5 < 3 THEN 'hard' ELSE 'soft' END, to_agency_id, 'bulk-seed',
       created_at + interval '25 days'
FROM bench_plan WHERE status = 'completed'
"""

# Each job entry is followed up at 13 and 26 weeks by the agency that recorded it; those due
# are mostly done, half of them with the job still held.
FOLLOW_UPS = """
INSERT INTO follow_ups (id, referral_id, kind, due_on, agency_id, journey_id, source_outcome_id, result,
                        found, announced_on, done_at, done_by, created_at)
SELECT md5('follow-up' || weeks || g)::uuid, referral_id, 'job_sustainment_' || weeks || '_weeks',
       due_on, to_agency_id, md5('journey' || CASE WHEN g % 4 = 1 THEN g - 1 ELSE g END)::uuid,
       md5('outcome' || g)::uuid,
       CASE WHEN due_on < current_date AND g % 10 < 7 THEN
            CASE WHEN g % 10 < 1 THEN 'unable_to_contact' ELSE 'outcome_recorded' END END,
       CASE WHEN due_on < current_date AND g % 10 BETWEEN 1 AND 6 THEN
            CASE WHEN g % 10 < 4 THEN 'job_sustained_' || weeks || '_weeks' ELSE 'job_not_sustained' END END,
       CASE WHEN due_on <= current_date THEN due_on END,
       CASE WHEN due_on < current_date AND g % 10 < 7 THEN due_on + 2 END,
       CASE WHEN due_on < current_date AND g % 10 < 7 THEN 'bulk-seed' END,
       created_at + interval '25 days'
FROM (SELECT p.*, w.weeks, (p.created_at + interval '25 days')::date + w.weeks * 7 AS due_on
      FROM bench_plan p CROSS JOIN (VALUES (13), (26)) AS w(weeks)
      WHERE p.status = 'completed' AND p.g % 5 = 0) AS due
"""

# Signposting is recorded apart from referrals: one for every five referrals.
SIGNPOSTS = """
INSERT INTO signposts (id, agency_id, service_id, service_name, purpose, occurred_on, note, recorded_by,
                       recorded_at)
SELECT md5('signpost' || g)::uuid, from_agency_id,
       CASE WHEN g % 2 = 0 THEN service_id END,
       CASE WHEN g % 2 = 1 THEN 'Food bank' END,
       purpose, created_at::date, NULL, 'bulk-seed', created_at
FROM bench_plan WHERE g % 5 = 2
"""

# A fifth of referrals have a first and a latest self-rating on one scale.
MEASURES = """
INSERT INTO measures (id, referral_id, subject_id, scale, score, taken_on, recorded_by_agency_id, recorded_by,
                      recorded_at)
SELECT md5('measure' || n || g)::uuid, referral_id, subject_id,
       (ARRAY['confidence','job_readiness','money_management','wellbeing'])[1 + g % 4],
       LEAST(10, 2 + g % 5 + n * (g % 3)), (created_at + n * interval '20 days')::date, to_agency_id,
       'bulk-seed', created_at + n * interval '20 days'
FROM bench_plan CROSS JOIN (VALUES (0), (1)) AS m(n)
WHERE status IN ('accepted', 'handover_scheduled', 'in_progress', 'completed') AND g % 5 = 1
"""


def _dsn(database_url: str) -> dict[str, Any]:
    url = make_url(database_url)
    return {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }


async def _targets(conn: asyncpg.Connection, demo: demo_network.Demo) -> None:
    rows = await conn.fetch(
        "SELECT s.id, s.agency_id, s.response_target_days,"
        " array_agg(p.purpose ORDER BY p.purpose) AS purposes"
        " FROM services s JOIN service_purposes p ON p.service_id = s.id GROUP BY s.id"
    )
    by_agency = {str(r["agency_id"]): r for r in rows}
    await conn.execute(TARGETS_TABLE)
    for idx, (slug, weight) in enumerate(SENDER_WEIGHTS.items()):
        row = by_agency[demo_network.agency_id(demo, slug)]
        await conn.execute(
            "INSERT INTO bench_targets VALUES ($1, $2, $3, $4, $5, $6)",
            idx,
            row["agency_id"],
            row["id"],
            row["purposes"],
            row["response_target_days"],
            weight,
        )


async def bulk_seed(database_url: str, demo: demo_network.Demo, count: int) -> None:
    """Insert `count` referrals (with their people, consents and outcomes) in one transaction."""
    conn = await asyncpg.connect(**_dsn(database_url))
    try:
        await conn.execute("SELECT setseed(0.42)")  # the same network every run
        await _targets(conn, demo)
        async with conn.transaction():
            await _step(conn, "plan", PLAN, count)
            for name, statement in (
                ("subjects", SUBJECTS),
                ("consents", CONSENTS),
                ("referrals", REFERRALS),
                ("people", PEOPLE),
                ("outcomes", OUTCOMES),
                ("outcome rollup", rollup_sql()),
                ("follow-ups", FOLLOW_UPS),
                ("signposts", SIGNPOSTS),
                ("measures", MEASURES),
            ):
                await _step(conn, name, statement)
        # Vacuumed now, so autovacuum does not wake up on the new rows in the middle of the
        # measurements, and hint bits are set once instead of by the first reads.
        await _step(conn, "vacuum", "VACUUM ANALYZE")
    finally:
        await conn.close()


async def _step(conn: asyncpg.Connection, name: str, statement: str, *args: object) -> None:
    started = time.perf_counter()
    await conn.execute(statement, *args)
    print(f"  {name:<10} {time.perf_counter() - started:6.1f} s")


async def _measure(http: httpx.AsyncClient, name: str, url: str, headers: dict[str, str], n: int) -> Sample:
    """Sequential requests: latency without queueing behind our own other requests."""
    sample = Sample(name)

    async def call() -> bool:
        return (await http.get(url, headers=headers)).status_code == 200

    started = time.perf_counter()
    for _ in range(n):
        await timed(sample, call)
    sample.wall = time.perf_counter() - started
    return sample


async def _inbox_samples(http: httpx.AsyncClient, demo: demo_network.Demo, n: int) -> list[Sample]:
    headers = {"Authorization": f"Bearer {await demo_network.token(http, demo, 'debt')}"}
    first = await http.get("/v1/referrals?box=inbox", headers=headers)
    cursor = first.json()["next_cursor"]
    pages = {
        "inbox first page": "box=inbox",
        "inbox next page": f"box=inbox&cursor={cursor}",
        "inbox ?status=submitted": "box=inbox&status=submitted",
        "sent first page": "box=sent",
    }
    return [await _measure(http, name, f"/v1/referrals?{query}", headers, n) for name, query in pages.items()]


async def _create_sample(http: httpx.AsyncClient, demo: demo_network.Demo, n: int) -> Sample:
    """New referrals one after another: the duplicate check must not grow with the table."""
    headers = {"Authorization": f"Bearer {await demo_network.token(http, demo, 'jcp')}"}
    service, sample = demo_network.service_id(demo, "debt"), Sample("create referral")

    async def call() -> bool:
        body = demo_network.referral_body(service, "debt_advice")
        return (await http.post("/v1/referrals", json=body, headers=headers)).status_code == 201

    started = time.perf_counter()
    for _ in range(n):
        await timed(sample, call)
    sample.wall = time.perf_counter() - started
    return sample


async def _journey_samples(http: httpx.AsyncClient, demo: demo_network.Demo, n: int) -> list[Sample]:
    """The lists a family's journey adds: follow-ups, signposts and one referral's measures."""
    headers = {"Authorization": f"Bearer {await demo_network.token(http, demo, 'debt')}"}
    inbox = (await http.get("/v1/referrals?box=inbox", headers=headers)).json()["items"]
    pages = {
        "follow-ups due": "/v1/follow-ups?status=due",
        "follow-ups upcoming": "/v1/follow-ups?status=upcoming",
        "signposts": "/v1/signposts",
        "measures of a referral": f"/v1/referrals/{inbox[0]['id']}/measures",
    }
    return [await _measure(http, name, url, headers, n) for name, url in pages.items()]


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _web_sign_in(web: httpx.AsyncClient, demo: demo_network.Demo, username: str) -> None:
    """Sign in to the staff pages as a browser does: the form, its token, the session cookie."""
    form = await web.get("/sign-in")
    token = _CSRF.search(form.text)
    assert token, "the sign-in page has no form token"
    body = {"username": username, "password": _password(demo, username), "csrf_token": token.group(1)}
    answer = await web.post("/sign-in", data=body)
    assert answer.status_code == 303, answer.text[:300]


async def _searched(web: httpx.AsyncClient, typed: str) -> str:
    """The inbox address the search form leads to for `typed` (the term sealed in it)."""
    page = await web.get("/inbox?view=open")
    token = _CSRF.search(page.text)
    assert token, "the inbox has no form token"
    answer = await web.post("/inbox", data={"q": typed, "view": "open", "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"]


async def _staff_page_samples(http: httpx.AsyncClient, demo: demo_network.Demo, n: int) -> list[Sample]:
    """The pages debt advisers use most: the inbox, its search by name and by reference, a referral."""
    headers = {"Authorization": f"Bearer {await demo_network.token(http, demo, 'debt')}"}
    first = (await http.get("/v1/referrals?box=inbox&limit=5", headers=headers)).json()["items"][4]
    person = first["subject"]
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=60) as web:
        await _web_sign_in(web, demo, "debt.caseworker")
        pages = {
            "page: inbox": "/inbox",
            "page: inbox, family name": await _searched(web, person["family_name"]),
            "page: inbox, full name": await _searched(web, f"{person['given_name']} {person['family_name']}"),
            "page: inbox, given name": await _searched(web, person["given_name"]),
            "page: inbox, reference": await _searched(web, first["reference"]),
            "page: inbox by urgency": "/inbox?view=open&sort=-urgency",
            "page: sent by due date": "/sent?sort=due_by",
            "page: a referral": f"/referrals/{first['id']}",
        }
        return [await _measure(web, name, url, {}, n) for name, url in pages.items()]


REPORTS = {
    "reports summary": "/v1/reports/summary",
    "reports signposts": "/v1/reports/signposts",
    "reports distance": "/v1/reports/distance-travelled",
}


async def _report_samples(http: httpx.AsyncClient, demo: demo_network.Demo, n: int) -> list[Sample]:
    form = {"grant_type": "password", "username": "admin", "password": _password(demo, "admin")}
    token = (await http.post("/v1/oauth/token", data=form)).raise_for_status().json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for name, url in REPORTS.items():
        probe = await http.get(url, headers=headers)
        if probe.status_code != 200:
            print(f"GET {url} answered {probe.status_code}: {probe.text[:300]}; skipped")
            continue
        samples.append(await _measure(http, name, url, headers, n))
    return samples


def _password(demo: demo_network.Demo, username: str) -> str:
    return str(next(u["password"] for u in demo["users"] if u["username"] == username))


def report(
    count: int, lists: list[Sample], pages: list[Sample], creates: Sample, reports: list[Sample]
) -> None:
    print(f"\n{count:,} referrals; sequential requests against one server worker")
    for sample in [*lists, *pages, creates, *reports]:
        print(sample.line())
    for samples, target in ((lists, INBOX_P99_TARGET), (pages, STAFF_PAGE_P99_TARGET)):
        for sample in samples:
            p99 = sample.percentile(99)
            verdict = "met" if p99 < target else "MISSED"
            print(f"target: {sample.name} p99 < {target * 1000:.0f} ms: {p99 * 1000:.1f} ms ({verdict})")
    for sample in reports:
        worst = max(sample.latencies)
        verdict = "met" if worst < REPORT_TARGET else "MISSED"
        print(f"target: {sample.name} < {REPORT_TARGET:.0f} s: slowest {worst * 1000:.0f} ms ({verdict})")


async def main(args: argparse.Namespace) -> None:
    async with server.database(args.server, keep=args.keep) as url:
        demo = server.prepare(url)
        print(f"seeding {args.referrals:,} referrals")
        await bulk_seed(url, demo, args.referrals)
        print(f"seeding {args.services:,} directory services")
        await directory_feed.seed(_dsn(url), args.services)
        async with (
            server.serve(url, demo) as running,
            httpx.AsyncClient(base_url=running.base_url, timeout=60) as http,
        ):
            lists = await _inbox_samples(http, demo, args.requests)
            lists += await _journey_samples(http, demo, args.requests)
            pages = await _staff_page_samples(http, demo, args.requests)
            pages += await directory_feed.samples(http, args.requests)
            creates = await _create_sample(http, demo, max(20, args.requests // 4))
            reports = await _report_samples(http, demo, max(5, args.requests // 20))
    report(args.referrals, lists, pages, creates, reports)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("PG_BENCH_URL", server.DEFAULT_SERVER))
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400, help="requests per inbox measurement")
    parser.add_argument("--services", type=int, default=1000, help="services in the published directory")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
