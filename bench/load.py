"""Throughput and latency of the main referral operations, as ratios to `GET /healthz`.

Creates a dedicated PostgreSQL database, migrates it, seeds the demo network, serves it
with one worker on loopback and loads it with async httpx clients. Every scenario is
bounded by a request count and a time limit; the best of several rounds is reported,
since other work on the machine makes single runs noisy.

    python -m bench.load [--rounds 3] [--concurrency 16] [--scale 1.0]
"""

import argparse
import asyncio
import os
import platform
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench import demo as demo_network
from bench import server
from bench.stats import Sample, best, busy_share, machine_times, own_cpu, process_cpu, timed

Call = Callable[[int], Awaitable[bool]]
SCENARIO_SECONDS = 90.0
CREATE_TARGET = 0.40  # create throughput as a share of the trivial endpoint's


@dataclass
class Context:
    server_pid: int
    http: httpx.AsyncClient
    sender: dict[str, str]
    receiver: dict[str, str]
    service_id: str
    created: list[str] = field(default_factory=list)


async def scenario(name: str, requests: int, concurrency: int, call: Call, pid: int = 0) -> Sample:
    """Run `requests` calls over `concurrency` workers; stops at SCENARIO_SECONDS regardless."""
    sample, numbers, cpu_before = Sample(name), iter(range(requests)), process_cpu(pid)
    client_before, machine_before = own_cpu(), machine_times()

    async def worker() -> None:
        for n in numbers:
            await timed(sample, lambda n=n: call(n))  # type: ignore[misc]

    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), SCENARIO_SECONDS)
    except TimeoutError:
        print(f"  {name}: stopped at the {SCENARIO_SECONDS:.0f} s limit")
    sample.wall = time.perf_counter() - started
    sample.server_cpu = process_cpu(pid) - cpu_before if pid else 0.0
    sample.client_cpu = own_cpu() - client_before
    sample.machine_busy = busy_share(machine_before, machine_times())
    return sample


def healthz(ctx: Context) -> Call:
    async def call(_: int) -> bool:
        return (await ctx.http.get("/healthz")).status_code == 200

    return call


def create(ctx: Context) -> Call:
    async def call(_: int) -> bool:
        body = demo_network.referral_body(ctx.service_id, "debt_advice")
        response = await ctx.http.post("/v1/referrals", json=body, headers=ctx.sender)
        if response.status_code != 201:
            return False
        ctx.created.append(response.json()["id"])
        return True

    return call


def get_one(ctx: Context) -> Call:
    async def call(n: int) -> bool:
        referral = ctx.created[n % len(ctx.created)]
        return (await ctx.http.get(f"/v1/referrals/{referral}", headers=ctx.receiver)).status_code == 200

    return call


def inbox(ctx: Context) -> Call:
    async def call(_: int) -> bool:
        response = await ctx.http.get("/v1/referrals", params={"box": "inbox"}, headers=ctx.receiver)
        return response.status_code == 200

    return call


def accept(ctx: Context, ids: list[str]) -> Call:
    async def call(n: int) -> bool:
        # A new referral is at version 1; the receiver's first view does not change it.
        headers = ctx.receiver | {"If-Match": '"1"'}
        url = f"/v1/referrals/{ids[n]}/transitions"
        return (await ctx.http.post(url, json={"to": "accepted"}, headers=headers)).status_code == 200

    return call


async def one_round(ctx: Context, scale: float, concurrency: int) -> list[Sample]:
    def count(base: int) -> int:
        return max(20, int(base * scale))

    ctx.created.clear()
    samples = [await scenario("GET /healthz", count(3000), concurrency, healthz(ctx), ctx.server_pid)]
    samples.append(await scenario("create referral", count(600), concurrency, create(ctx), ctx.server_pid))
    ids = list(ctx.created)
    samples.append(await scenario("get referral", count(1500), concurrency, get_one(ctx), ctx.server_pid))
    samples.append(await scenario("inbox list", count(1000), concurrency, inbox(ctx), ctx.server_pid))
    samples.append(
        await scenario("transition (accept)", len(ids), concurrency, accept(ctx, ids), ctx.server_pid)
    )
    return samples


async def load(running: server.Running, rounds: int, concurrency: int, scale: float) -> list[Sample]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=running.base_url, limits=limits, timeout=30) as http:
        demo = running.demo
        ctx = Context(
            running.pid,
            http,
            {"Authorization": f"Bearer {await demo_network.token(http, demo, 'jcp')}"},
            {"Authorization": f"Bearer {await demo_network.token(http, demo, 'debt')}"},
            demo_network.service_id(demo, "debt"),
        )
        await one_round(ctx, 0.1, concurrency)  # warm-up: connections, statement caches
        runs = [await one_round(ctx, scale, concurrency) for _ in range(rounds)]
    return [best([run[i] for run in runs]) for i in range(len(runs[0]))]


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def report(samples: list[Sample], rounds: int, concurrency: int) -> None:
    baseline = samples[0]
    print(f"\nmachine: {machine()}; one server worker; {concurrency} concurrent clients; best of {rounds}")
    for sample in samples:
        print(sample.line(None if sample is baseline else baseline))
    share = samples[1].rps / baseline.rps if baseline.rps else 0.0
    verdict = "met" if share >= CREATE_TARGET else "MISSED"
    print(f"target: create >= {CREATE_TARGET:.0%} of /healthz throughput: {share:.1%} ({verdict})")


async def main(args: argparse.Namespace) -> None:
    async with server.database(args.server, keep=args.keep) as url:
        demo = server.prepare(url)
        async with server.serve(url, demo) as running:
            samples = await load(running, args.rounds, args.concurrency, args.scale)
    report(samples, args.rounds, args.concurrency)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("PG_BENCH_URL", server.DEFAULT_SERVER))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every request count")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
