"""Throughput and latency of the main operations under wrk, as shares of `GET /healthz` in the same run.

Creates a dedicated PostgreSQL database, migrates it, seeds the demo network and runs a worker that
seals the audit log every second. Then it serves the database on loopback with one server process,
and again with two, and loads each with wrk (a C load generator; Lua scripts in bench/wrk make the
request bodies): /healthz, creating a referral (a new person each time), reading one, an inbox page
of 25, accepting one, and an inclusion proof from the transparency log; and the FHIR interface's
twins of two of them, creating a referral with a transaction Bundle and reading its Task. It prints
requests per second, the share of /healthz, p50 and p99, and the CPU wrk, the server and the sealer
used, and each FHIR scenario's server CPU per request against its /v1 twin's.

    python -m bench.load [--seconds 10] [--connections 32] [--threads 2] [--workers 1 2]
                         [--profile create] [--keep]

`--profile SCENARIO` records the server with py-spy during that scenario (`pip install py-spy`).
"""

import argparse
import asyncio
import os
import platform
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from app.config import get_settings
from bench import demo as demo_network
from bench import profile, server, wrk
from bench.wrk import Load, Result

INBOX = "/v1/referrals?box=inbox&limit=25"
SHARE_TARGETS = {"create referral": 0.15, "get referral": 0.25, "inbox page of 25": 0.12}
SCALING_TARGET = 1.3  # two server processes against one, for create and get
SCALED = ("create referral", "get referral")
# Each FHIR scenario and its /v1 twin: the same work through the same services, in FHIR's terms.
FHIR_TWINS = {"FHIR create (Bundle)": "create referral", "FHIR Task read": "get referral"}
FHIR_CPU_TARGET = 1.3  # the FHIR scenario's server CPU per request, at most this times its twin's


@dataclass
class Setup:
    """What the scenarios need: where to send them, who sends them, and a folder for id lists."""

    url: str
    database_url: str
    sender_agency: str
    sender: str
    receiver: str
    auditor: str
    service_id: str
    folder: Path


async def tokens(running: server.Running) -> tuple[str, str, str]:
    """Tokens of the sender (JCP's caseworker), the receiver (debt advice's) and the auditor."""
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        sender = await demo_network.token(http, running.demo, "jcp")
        receiver = await demo_network.token(http, running.demo, "debt")
        auditor = await demo_network.user_token(http, running.demo, "auditor")
    return sender, receiver, auditor


async def submitted_ids(setup: Setup, name: str, family: str) -> str:
    """A file of the referrals still submitted at version 1 and not yet viewed, made for people whose
    family name starts with `family` (one scenario's), newest first: for reading and accepting."""
    conn = await asyncpg.connect(**server.dsn(setup.database_url))
    try:
        rows = await conn.fetch(
            "SELECT r.id FROM referrals r JOIN referral_people p ON p.referral_id = r.id "
            "WHERE r.status = 'submitted' AND r.version = 1 AND r.first_viewed_at IS NULL "
            "AND p.family_name LIKE $1 ORDER BY r.created_at DESC",
            family + "%",
        )
    finally:
        await conn.close()
    path = setup.folder / name
    path.write_text("".join(f"{row['id']}\n" for row in rows), encoding="ascii")
    return str(path)


async def tree_size(setup: Setup) -> int:
    """The size of the latest checkpoint's tree, which proofs may ask about."""
    async with httpx.AsyncClient(base_url=setup.url, timeout=30) as http:
        headers = {"Authorization": f"Bearer {setup.auditor}"}
        note = (await http.get("/v1/audit/checkpoint", headers=headers)).text
    return int(note.split("\n")[1])


async def scenarios(setup: Setup, load: Load, pids: tuple[int, int], watch: str | None) -> list[Result]:
    """Every scenario once, in an order that leaves each what it needs; `watch` again under py-spy."""

    async def go(name: str, script: str, **env: str) -> Result:
        measured = await wrk.run(name, setup.url, script, env, load, pids)
        if name == watch:  # again, so the sampling does not slow the figures reported
            async with profile.recording(pids[0], name):
                await wrk.run(name, setup.url, script, env | {"BENCH_RUN": uuid.uuid4().hex[:8]}, load, pids)
        return measured

    results = [await go("GET /healthz", "path.lua", BENCH_PATH="/healthz")]
    run = uuid.uuid4().hex[:8]
    create = {"BENCH_TOKEN": setup.sender, "BENCH_SERVICE_ID": setup.service_id, "BENCH_RUN": run}
    results.append(await go("create referral", "create.lua", **create))
    codes = get_settings().public_base_url.rstrip("/") + "/fhir"
    bundle = create | {"BENCH_AGENCY_ID": setup.sender_agency, "BENCH_CODES": codes}
    results.append(await go("FHIR create (Bundle)", "fhir_create.lua", **bundle))
    ids = await submitted_ids(setup, f"submitted-{run}.txt", f"Bench{run}")
    results.append(await go("get referral", "get.lua", BENCH_TOKEN=setup.receiver, BENCH_IDS=ids))
    tasks = await submitted_ids(setup, f"tasks-{run}.txt", f"FhirBench{run}")
    results.append(await go("FHIR Task read", "fhir_task.lua", BENCH_TOKEN=setup.receiver, BENCH_IDS=tasks))
    results.append(await go("inbox page of 25", "path.lua", BENCH_TOKEN=setup.receiver, BENCH_PATH=INBOX))
    results.append(await go("accept referral", "accept.lua", BENCH_TOKEN=setup.receiver, BENCH_IDS=ids))
    size = str(await tree_size(setup))
    results.append(await go("inclusion proof", "proof.lua", BENCH_TOKEN=setup.auditor, BENCH_TREE_SIZE=size))
    return results


async def warm_up(setup: Setup, pids: tuple[int, int]) -> None:
    """Open the pools' connections and prepare their statements before anything is measured."""
    await scenarios(setup, Load(seconds=2, connections=32, threads=2), pids, None)


async def with_workers(
    url: str, demo: demo_network.Demo, workers: int, sealer: int, args: argparse.Namespace, folder: Path
) -> list[Result]:
    async with server.serve(url, demo, workers=workers) as running:
        sender, receiver, auditor = await tokens(running)
        service = demo_network.service_id(demo, "debt")
        jcp = demo_network.agency_id(demo, "jcp")
        setup = Setup(running.base_url, url, jcp, sender, receiver, auditor, service, folder)
        await warm_up(setup, (running.pid, sealer))
        load = Load(args.seconds, args.connections, args.threads)
        return await scenarios(setup, load, (running.pid, sealer), args.profile)


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def table(title: str, results: list[Result]) -> None:
    healthz = results[0].rps
    print(f"\n{title}")
    print(
        f"{'request':<22} {'req/s':>8} {'share':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'wrk CPU':>8} {'server ms/req':>14} {'sealer ms/req':>14} {'CPUs busy':>10}"
    )
    for r in results:
        print(
            f"{r.name:<22} {r.rps:>8.0f} {r.rps / healthz:>7.1%} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors:>7} {r.wrk_cpu / r.seconds:>8.0%} {r.per_request_ms(r.server_cpu):>14.2f} "
            f"{r.per_request_ms(r.sealer_cpu):>14.3f} {r.machine_busy:>10.0%}"
        )


def verdicts(runs: dict[int, list[Result]]) -> None:
    """Print each target with the figure measured against it."""
    if 1 in runs:
        one = {r.name: r.rps / runs[1][0].rps for r in runs[1]}
        for name, target in SHARE_TARGETS.items():
            verdict = _met(one[name] >= target)
            print(f"target: {name} >= {target:.0%} of /healthz with one process: {one[name]:.1%} ({verdict})")
    if 1 in runs and 2 in runs:
        for name in SCALED:
            ratio = _rps(runs[2], name) / _rps(runs[1], name)
            verdict = _met(ratio >= SCALING_TARGET)
            print(f"target: {name} with two processes >= {SCALING_TARGET}x one: {ratio:.2f}x ({verdict})")


def fhir_verdicts(runs: dict[int, list[Result]]) -> None:
    """Each FHIR scenario's server CPU per request against its /v1 twin's, in each run."""
    for workers, results in runs.items():
        cpu = {r.name: r.per_request_ms(r.server_cpu) for r in results}
        for fhir, twin in FHIR_TWINS.items():
            ratio = cpu[fhir] / cpu[twin] if cpu[twin] else 0.0
            print(
                f"target: {fhir} server CPU per request <= {FHIR_CPU_TARGET}x {twin}'s ({workers} process"
                f"{'es' if workers > 1 else ''}): {cpu[fhir]:.2f} against {cpu[twin]:.2f} ms, "
                f"{ratio:.2f}x ({_met(ratio <= FHIR_CPU_TARGET)})"
            )


def _rps(results: list[Result], name: str) -> float:
    return next(r.rps for r in results if r.name == name)


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def main(args: argparse.Namespace) -> None:
    wrk.require()
    print(f"machine: {machine()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs: dict[int, list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="rx-bench-") as folder:
        async with server.database(args.server, keep=args.keep) as url:
            demo = server.prepare(url)
            async with server.sealing(url) as sealer:
                for workers in args.workers:
                    runs[workers] = await with_workers(url, demo, workers, sealer, args, Path(folder))
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s per scenario; PostgreSQL on loopback;"
    )
    print("a worker sealing the audit log every second throughout. share: of /healthz in the same run.")
    for workers, results in runs.items():
        table(f"{workers} server process{'es' if workers > 1 else ''} (serve --workers {workers})", results)
    print()
    verdicts(runs)
    fhir_verdicts(runs)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("PG_BENCH_URL", server.DEFAULT_SERVER))
    parser.add_argument("--seconds", type=int, default=10, help="each scenario's duration")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server processes to try")
    parser.add_argument("--profile", help="record the server with py-spy during this scenario")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
