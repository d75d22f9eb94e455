"""Time the summary report and the overdue list on PostgreSQL with a million referrals.

    python -m bench.reports_summary [--server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
        [--referrals 1000000] [--vacuum] [--keep] [--reuse DATABASE]

Creates a private database on the server, migrates it, fills it with generated rows in SQL
(50 agencies, a fifth of the people with more than one referral, over two years; referrals in
progress or completed have one or two outcomes), then prints the best of three timings for each report shape.
"""

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import Select, select
from sqlalchemy.engine import make_url

from app.services.outcomes import rollup_sql

FILL = [
    """INSERT INTO agencies (id, name, kind, local_authority, created_at, updated_at)
       SELECT gen_random_uuid(), 'Agency ' || n, 'other', 'Wrexham', now(), now()
       FROM generate_series(1, 50) n""",
    """INSERT INTO services (id, agency_id, name, description, eligibility, languages, area_served,
                             accepting_referrals, response_target_days, created_at, updated_at)
       SELECT gen_random_uuid(), id, 'Service of ' || name, '', '', '["en"]', '[]', true, 5, now(), now()
       FROM agencies""",
    """CREATE TEMP TABLE bench_services AS
       SELECT row_number() OVER (ORDER BY id) AS n, id, agency_id FROM services""",
    """INSERT INTO subjects (id, given_name, family_name, date_of_birth, preferred_contact, language,
                             needs_interpreter, recorded_by_agency_id, created_at, updated_at)
       SELECT gen_random_uuid(), 'Given', 'Family ' || n, date '1990-01-01' + (n % 9000),
              'none', 'en', false, (SELECT agency_id FROM bench_services WHERE n = 1), now(), now()
       FROM generate_series(1, :subjects) n""",
    """CREATE TEMP TABLE bench_subjects AS
       SELECT row_number() OVER (ORDER BY id) AS n, id FROM subjects""",
    """INSERT INTO consents (id, subject_id, given_by, method, given_at, lawful_basis, purposes,
                             data_categories, recorded_by_agency_id, recorded_by, created_at)
       SELECT gen_random_uuid(), s.id, 'subject', 'verbal', now(), 'consent', '["debt_advice"]', '[]',
              (SELECT agency_id FROM bench_services WHERE n = 1), 'bench', now()
       FROM bench_subjects s""",
    """CREATE TEMP TABLE bench_consents AS
       SELECT s.n, c.id, c.subject_id FROM consents c JOIN bench_subjects s ON s.id = c.subject_id""",
    """CREATE TEMP TABLE bench_referrals AS
       SELECT n, timestamptz '2024-01-01' + (n::float / :referrals) * interval '730 days' AS created_at,
              (ARRAY['submitted','received','accepted','declined','handover_scheduled','in_progress',
                     'completed','completed','completed','cancelled','withdrawn'])[1 + (n * 7919) % 11]
                AS status,
              (ARRAY['debt_advice','better_off_calculation','childcare_support','esol',
                     'job_search_support','housing_support'])[1 + (n * 104729) % 6] AS purpose,
              1 + (n * 31) % 50 AS from_n, 1 + (n * 17 + 5) % 50 AS to_n,
              1 + (n * 13) % :subjects AS subject_n,
              ((n * 2654435761) % 200)::float AS decision_hours,
              gen_random_uuid() AS id
       FROM generate_series(1::bigint, :referrals) n""",
    # Referrals in progress or completed have one or two outcomes (a third of them two).
    """ALTER TABLE bench_referrals ADD COLUMN outcomes int""",
    """UPDATE bench_referrals SET outcomes = CASE WHEN status NOT IN ('in_progress', 'completed') THEN 0
                                                  WHEN n % 3 = 0 THEN 2 ELSE 1 END""",
    """INSERT INTO referrals (id, reference, purpose, reason, urgency, handover_mode, from_agency_id,
                              from_actor_kind, from_actor_id, to_agency_id, to_service_id, subject_id,
                              consent_id, status, due_by, decided_at, closed_at, outcome_count, version,
                              created_at, updated_at)
       SELECT r.id, 'RX-' || r.n, r.purpose, repeat('Reason for the referral. ', 8),
              'routine', 'referral_only', f.agency_id, 'user', 'bench', t.agency_id, t.id, c.subject_id,
              c.id, r.status, r.created_at + interval '5 days',
              CASE WHEN r.status NOT IN ('submitted', 'received')
                        AND NOT (r.status IN ('cancelled', 'withdrawn') AND r.n % 2 = 0)
                   THEN r.created_at + r.decision_hours * interval '1 hour' END,
              CASE WHEN r.status IN ('declined', 'completed', 'cancelled', 'withdrawn')
                   THEN r.created_at + interval '20 days' END,
              r.outcomes, 1, r.created_at, r.created_at
       FROM bench_referrals r
       JOIN bench_services f ON f.n = r.from_n
       JOIN bench_services t ON t.n = CASE WHEN r.to_n = r.from_n THEN 1 + r.to_n % 50 ELSE r.to_n END
       JOIN bench_consents c ON c.n = r.subject_n""",
    """INSERT INTO outcomes (id, referral_id, type, kind, occurred_on, recorded_by_agency_id,
                             recorded_by, recorded_at)
       SELECT gen_random_uuid(), r.id,
              (ARRAY['job_entry','debt_plan_agreed','engaged_with_service','confidence_improved',
                     'training_started'])[1 + (r.n * 7 + k) % 5],
              'hard', (r.created_at + (k * 9) * interval '1 day')::date,
              (SELECT agency_id FROM bench_services WHERE n = 1), 'bench',
              r.created_at + (k * 9) * interval '1 day'
       FROM bench_referrals r CROSS JOIN generate_series(1, 2) k
       WHERE k <= r.outcomes""",
    rollup_sql(),
    "ANALYZE",
]


async def _admin(server: str, statement: str) -> None:
    url = make_url(server)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _fill(database_url: str, referrals: int) -> None:
    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        for statement in FILL:
            sql = statement.replace(":referrals", str(referrals)).replace(
                ":subjects", str(referrals * 4 // 5)
            )
            started = time.perf_counter()
            await conn.execute(sql)
            print(f"  {time.perf_counter() - started:6.1f}s  {' '.join(sql.split())[:70]}")
    finally:
        await conn.close()


async def _best_of_three(work: Callable[[], Awaitable[object]]) -> float:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return min(timings) * 1000


async def _time_reports(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    from app.config import get_settings

    get_settings.cache_clear()
    from app.db import dispose_engine, get_sessionmaker
    from app.models.audit import ActorKind
    from app.models.report import GroupBy, ReportQuery
    from app.security import Principal
    from app.services import reports

    async with get_sessionmaker()() as session:
        agency = (await session.execute(_first_agency())).scalar_one()
    platform = Principal(ActorKind.USER, "bench", None, frozenset({"reports:read"}))
    member = Principal(ActorKind.USER, "bench", agency, frozenset({"reports:read"}))
    month = {"start": datetime(2025, 3, 1, tzinfo=UTC), "end": datetime(2025, 4, 1, tzinfo=UTC)}
    shapes: list[tuple[str, Principal, ReportQuery]] = [
        ("all referrals, ungrouped", platform, ReportQuery()),
        ("all referrals, by purpose", platform, ReportQuery(group_by=GroupBy.PURPOSE)),
        ("all referrals, by receiving agency", platform, ReportQuery(group_by=GroupBy.TO_AGENCY)),
        ("one month, by sending agency", platform, ReportQuery(**month, group_by=GroupBy.FROM_AGENCY)),
        ("one agency, all time", member, ReportQuery()),
        ("one agency, one month", member, ReportQuery(**month)),
    ]
    for name, principal, query in shapes:

        async def summary(principal: Principal = principal, query: ReportQuery = query) -> object:
            async with get_sessionmaker()() as session:
                return await reports.summarise(session, principal, query)

        print(f"  {await _best_of_three(summary):7.1f} ms  summary: {name}")

    async def overdue() -> object:
        async with get_sessionmaker()() as session:
            return await reports.list_overdue(session, member, cursor=None, limit=50)

    print(f"  {await _best_of_three(overdue):7.1f} ms  overdue list: one agency, first page")
    await dispose_engine()


def _first_agency() -> Select[uuid.UUID]:
    from sqlmodel import col

    from app.models.directory import Agency

    return select(col(Agency.id)).order_by(col(Agency.name)).limit(1)


def _migrate(database_url: str) -> None:
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(database_url), "head")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--vacuum", action="store_true", help="VACUUM after filling, as autovacuum would, then time again."
    )
    parser.add_argument("--reuse", metavar="DATABASE", help="Time a database kept by an earlier --keep run.")
    args = parser.parse_args()
    if args.reuse:
        asyncio.run(_time_reports(make_url(args.server).set(database=args.reuse).render_as_string(False)))
        return
    name = f"rx_bench_{uuid.uuid4().hex[:8]}"
    database_url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(args.server, f'CREATE DATABASE "{name}"'))
    try:
        _migrate(database_url)
        print(f"filling {name} with {args.referrals} referrals")
        asyncio.run(_fill(database_url, args.referrals))
        print("timings (best of three, warm), freshly loaded:")
        asyncio.run(_time_reports(database_url))
        if args.vacuum:
            asyncio.run(_admin(database_url, "VACUUM ANALYZE"))
            print("timings (best of three, warm), vacuumed:")
            asyncio.run(_time_reports(database_url))
        print("done")
    finally:
        if not args.keep:
            asyncio.run(_admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
