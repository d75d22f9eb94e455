"""The transparency log at a million leaves: sealing, `audit verify`, and inclusion proofs under wrk.

Creates a dedicated PostgreSQL database, seeds the demo network, bulk-inserts audit events with
set-based SQL (as requests would have written them: unsealed), then times `referral-exchange audit
seal` and `referral-exchange audit verify` as leaves per second, and measures inclusion proofs for
random leaves with wrk: one connection (latency) and 32 (throughput).

    python -m bench.audit_log [--leaves 1000000] [--seconds 10] [--keep]
"""

import argparse
import asyncio
import os
import subprocess
import time

import asyncpg
import httpx

from bench import demo as demo_network
from bench import server, wrk
from bench.load import machine
from bench.wrk import Load, Result

VERIFY_TARGET = 100_000  # leaves per second
PROOF_P99_TARGET_MS = 5.0

# Events shaped like a referral view: ids and codes, a timestamp a few microseconds apart.
EVENTS = """
INSERT INTO audit_events (at, actor_kind, actor_id, actor_agency_id, action, entity_type, entity_id,
                          referral_id, subject_id, details)
SELECT now() - (($1::int - g) * interval '1 millisecond'), 'user', md5('actor' || g % 50)::uuid::text,
       md5('agency' || g % 5)::uuid, 'referral.viewed', 'referral', md5('referral' || g)::uuid::text,
       md5('referral' || g)::uuid, NULL, jsonb_build_object('first_view', g % 3 = 0)
FROM generate_series(1, $1::int) AS g
"""


async def bulk_insert(database_url: str, leaves: int) -> None:
    conn = await asyncpg.connect(**server.dsn(database_url))
    try:
        await conn.execute(EVENTS, leaves)
        await conn.execute("VACUUM ANALYZE audit_events")
    finally:
        await conn.close()


def timed_command(database_url: str, *args: str) -> tuple[float, str]:
    """Run `referral-exchange ARGS` against the database; its wall time and output."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [server.CLI, *args], env=server.environment(database_url), capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, done.stdout.strip()


async def proofs(database_url: str, demo: demo_network.Demo, size: int, seconds: int) -> list[Result]:
    async with server.serve(database_url, demo) as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
            token = await demo_network.user_token(http, demo, "auditor")
        env = {"BENCH_TOKEN": token, "BENCH_TREE_SIZE": str(size)}
        pids = (running.pid, running.pid)
        await wrk.run("warm-up", running.base_url, "proof.lua", env, Load(2, 4, 1), pids)
        one = await wrk.run("one connection", running.base_url, "proof.lua", env, Load(seconds, 1, 1), pids)
        many = await wrk.run("32 connections", running.base_url, "proof.lua", env, Load(seconds, 32, 2), pids)
    return [one, many]


async def main(args: argparse.Namespace) -> None:
    wrk.require()
    print(f"machine: {machine()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    async with server.database(args.server, keep=args.keep) as url:
        demo = server.prepare(url)
        await bulk_insert(url, args.leaves)
        sealing, sealed = timed_command(url, "audit", "seal")
        verifying, verified = timed_command(url, "audit", "verify")
        size = int(sealed.rsplit(" ", 1)[1])
        results = await proofs(url, demo, size, args.seconds)
    print(f"\n{sealed}\n{verified}")
    print(f"audit seal: {size / sealing:,.0f} leaves/s ({sealing:.1f} s for {size:,}, start-up included)")
    rate = size / verifying
    verdict = "met" if rate >= VERIFY_TARGET else "MISSED"
    print(f"audit verify: {rate:,.0f} leaves/s ({verifying:.1f} s); target {VERIFY_TARGET:,}/s ({verdict})")
    for r in results:
        print(
            f"inclusion proof at {size:,} leaves, {r.name}: {r.rps:,.0f}/s, p50 {r.p50_ms:.2f} ms, "
            f"p99 {r.p99_ms:.2f} ms, {r.errors} errors, wrk CPU {r.wrk_cpu / r.seconds:.0%}, "
            f"server {r.per_request_ms(r.server_cpu):.2f} ms CPU/request"
        )
    verdict = "met" if results[0].p99_ms < PROOF_P99_TARGET_MS else "MISSED"
    print(f"target: inclusion proof p99 < {PROOF_P99_TARGET_MS} ms (one connection): {verdict}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("PG_BENCH_URL", server.DEFAULT_SERVER))
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="each proof scenario's duration")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
