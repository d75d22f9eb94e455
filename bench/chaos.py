"""Faults injected under load: what a client saw, and whether anything acknowledged was lost.

Creates a PostgreSQL instance of its own (bench/cluster.py), migrates and seeds it, serves it
with one worker on loopback and keeps clients creating referrals while, in turn, the
database restarts (fast shutdown), crashes (immediate shutdown, then crash recovery), the
server is killed with SIGKILL and started again, and an ACCESS EXCLUSIVE lock is held on
`referrals`. Then it runs concurrent accepts carrying one If-Match and concurrent creates
carrying one Idempotency-Key.

For each fault it prints the creates acknowledged, those lost (acknowledged but missing
afterwards: must be 0), the requests that failed while the fault lasted and after it ended,
the time from its end to the next acknowledged create, and what `/readyz` said meanwhile;
then it seals every audit event into the log (`audit seal`) and verifies the log (`audit
verify`). Bounded in time; loopback only; the instance and its directory are removed at the
end.

    python -m bench.chaos [--clients 16] [--lock-seconds 25]
"""

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench import chaos_delivery
from bench import demo as demo_network
from bench.cluster import Cluster, cluster, free_port

CLI = str(Path(sys.executable).with_name("referral-exchange"))
WARM_SECONDS = 3.0  # load before each fault
SETTLE_SECONDS = 3.0  # load after the first acknowledged create once the fault is over
RECOVERY_LIMIT_SECONDS = 60.0
THINK_SECONDS = 0.02  # between one client's requests
PROBE_SECONDS = 0.5  # between readiness probes
CLIENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Call:
    """One request a client made: when, and what came back (a status or the error's name)."""

    started: float
    ended: float
    outcome: str
    referral_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("2")


@dataclass
class Window:
    """Everything seen around one fault."""

    name: str
    fault_start: float = 0.0
    fault_end: float = 0.0
    calls: list[Call] = field(default_factory=list)
    probes: list[Call] = field(default_factory=list)
    unavailable: Counter[str] = field(default_factory=Counter)  # the server's 503s by cause


@dataclass
class Server:
    """`referral-exchange serve` with one worker, which the scenarios may kill and start again."""

    database_url: str
    log: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        command = [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, env=environment(self.database_url), stdout=log, stderr=log
            )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
            for _ in range(150):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not start")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            await self.kill()


def environment(database_url: str) -> dict[str, str]:
    """The server's and the command line's environment: the database, no request budgets."""
    return os.environ | {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the webhook receiver is on loopback
    }


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    """Run `referral-exchange ARGS` against the database; its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        env=environment(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


@dataclass
class Context:
    """The running system and the logins the clients use."""

    pg: Cluster
    server: Server
    http: httpx.AsyncClient
    sender: dict[str, str]
    receiver: dict[str, str]
    service_id: str
    clients: int


async def timed(send: Callable[[], Awaitable[httpx.Response]]) -> tuple[Call, httpx.Response | None]:
    """Make one request; its outcome is the status, or the name of the error that stopped it."""
    started = time.monotonic()
    try:
        response = await send()
    except httpx.HTTPError as exc:
        return Call(started, time.monotonic(), type(exc).__name__), None
    return Call(started, time.monotonic(), str(response.status_code)), response


async def create_once(ctx: Context, headers: dict[str, str] | None = None) -> Call:
    """Create one referral for a new person."""
    body = demo_network.referral_body(ctx.service_id, "debt_advice")
    call, response = await timed(
        lambda: ctx.http.post("/v1/referrals", json=body, headers=ctx.sender | (headers or {}))
    )
    if response is None or not call.ok:
        return call
    return Call(call.started, call.ended, call.outcome, str(response.json()["id"]))


async def creating(ctx: Context, stop: asyncio.Event, calls: list[Call]) -> None:
    """One client creating referrals until told to stop."""
    while not stop.is_set():
        calls.append(await create_once(ctx))
        await asyncio.sleep(THINK_SECONDS)


async def probing(ctx: Context, stop: asyncio.Event, probes: list[Call]) -> None:
    """Ask `/readyz` every PROBE_SECONDS on a connection of its own."""
    async with httpx.AsyncClient(base_url=ctx.server.base_url, timeout=10) as http:
        while not stop.is_set():
            probe, _ = await timed(lambda: http.get("/readyz"))
            probes.append(probe)
            await asyncio.sleep(PROBE_SECONDS)


@contextlib.asynccontextmanager
async def loaded(ctx: Context, window: Window) -> AsyncIterator[None]:
    """Clients creating referrals and a readiness probe, for as long as the body runs."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(creating(ctx, stop, window.calls)) for _ in range(ctx.clients)]
    tasks.append(asyncio.create_task(probing(ctx, stop, window.probes)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def recovered(window: Window) -> None:
    """Wait for a create acknowledged after the fault ended (at most RECOVERY_LIMIT_SECONDS)."""
    limit = window.fault_end + RECOVERY_LIMIT_SECONDS
    while time.monotonic() < limit:
        if any(c.ok and c.ended >= window.fault_end for c in window.calls):
            return
        await asyncio.sleep(0.1)


async def under_load(ctx: Context, name: str, fault: Callable[[], Awaitable[None]]) -> Window:
    """Run `fault` while clients create referrals; keep loading until they are served again."""
    window, counted_before = Window(name), await unavailable_counts(ctx)
    async with loaded(ctx, window):
        await asyncio.sleep(WARM_SECONDS)
        window.fault_start = time.monotonic()
        await fault()
        window.fault_end = time.monotonic()
        await recovered(window)
        await asyncio.sleep(SETTLE_SECONDS)
    window.unavailable = since(counted_before, await unavailable_counts(ctx))
    return window


def restart_database(ctx: Context, mode: str, down_seconds: float) -> Callable[[], Awaitable[None]]:
    """Stop the database (`fast` or `immediate`), leave it down a while, start it again."""

    async def fault() -> None:
        await asyncio.to_thread(ctx.pg.stop, mode)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(ctx.pg.start)

    return fault


def kill_server(ctx: Context) -> Callable[[], Awaitable[None]]:
    """SIGKILL the server mid-load and start a new one on the same port."""

    async def fault() -> None:
        await ctx.server.kill()
        await ctx.server.start()

    return fault


def lock_referrals(ctx: Context, seconds: float) -> Callable[[], Awaitable[None]]:
    """Hold an ACCESS EXCLUSIVE lock on `referrals` (as a careless migration would)."""

    async def fault() -> None:
        conn = await asyncpg.connect(dsn(ctx))
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE referrals IN ACCESS EXCLUSIVE MODE")
                await asyncio.sleep(seconds)
        finally:
            await conn.close()

    return fault


def dsn(ctx: Context) -> str:
    return ctx.server.database_url.replace("postgresql+asyncpg", "postgresql")


async def missing(ctx: Context, ids: list[str]) -> int:
    """How many of these referrals the database does not hold."""
    conn = await asyncpg.connect(dsn(ctx))
    try:
        found = await conn.fetchval("SELECT count(*) FROM referrals WHERE id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    return len(set(ids)) - int(found)


async def audit_verifies(ctx: Context) -> bool:
    """Seal every committed audit event, then whether `referral-exchange audit verify` accepts the log."""
    sealed, out = await cli(ctx.server.database_url, "audit", "seal")
    if sealed:
        raise RuntimeError(f"referral-exchange audit seal failed: {out}")
    status, out = await cli(ctx.server.database_url, "audit", "verify")
    print(f"  audit log: {' '.join(out.split())}")
    return status == 0


def failures(calls: list[Call]) -> str:
    counted = Counter(c.outcome for c in calls if not c.ok)
    return ", ".join(f"{n}x {outcome}" for outcome, n in counted.most_common()) or "none"


def recovery(window: Window) -> str:
    ends = [c.ended for c in window.calls if c.ok and c.ended >= window.fault_end]
    return f"{min(ends) - window.fault_end:.2f} s" if ends else "NOT RECOVERED"


def readiness(window: Window) -> str:
    during = [p for p in window.probes if p.started < window.fault_end and p.ended > window.fault_start]
    slowest = max((p.ended - p.started for p in window.probes), default=0.0)
    said = Counter(p.outcome for p in during)
    return f"{', '.join(f'{n}x {o}' for o, n in said.most_common()) or 'no probe'}; slowest {slowest:.2f} s"


async def report(ctx: Context, window: Window) -> bool:
    """Print one fault's figures; False if anything acknowledged was lost or the log is broken."""
    acked = [c.referral_id for c in window.calls if c.ok and c.referral_id]
    lost = await missing(ctx, acked)
    during = [c for c in window.calls if c.started < window.fault_end and not c.ok]
    after = [c for c in window.calls if c.started >= window.fault_end and not c.ok]
    print(f"\n{window.name} (fault lasted {window.fault_end - window.fault_start:.1f} s)")
    print(f"  acknowledged {len(acked)}, lost {lost}, recovery {recovery(window)}")
    print(f"  failed during: {len(during)} ({failures(during)})")
    print(f"  failed after:  {len(after)} ({failures(after)})")
    counted = ", ".join(f"{n}x {cause}" for cause, n in window.unavailable.most_common()) or "none"
    print(f"  503s counted by the server, by cause: {counted}")
    print(f"  slowest request {max(c.ended - c.started for c in window.calls):.2f} s")
    print(f"  /readyz during: {readiness(window)}")
    return await audit_verifies(ctx) and lost == 0


async def accepts_with_one_etag(ctx: Context) -> bool:
    """Concurrent accepts carrying the same If-Match: exactly one may succeed."""
    created = await create_once(ctx)
    url, headers = f"/v1/referrals/{created.referral_id}/transitions", ctx.receiver | {"If-Match": '"1"'}
    calls = await asyncio.gather(
        *(
            timed(lambda: ctx.http.post(url, json={"to": "accepted"}, headers=headers))
            for _ in range(ctx.clients)
        )
    )
    outcomes = Counter(call.outcome for call, _ in calls)
    history = (await ctx.http.get(f"/v1/referrals/{created.referral_id}/history", headers=ctx.sender)).json()
    moves = [h for h in history["items"] if h.get("to_status") == "accepted"]
    held = outcomes["200"] == 1 and outcomes["412"] == ctx.clients - 1 and len(moves) == 1
    print(
        f"\nconcurrent accepts, one If-Match: {dict(outcomes)}; accepted once in history: {len(moves) == 1}"
    )
    return held


async def creates_with_one_key(ctx: Context) -> bool:
    """Concurrent creates carrying the same Idempotency-Key and body: one referral, one answer."""
    body = demo_network.referral_body(ctx.service_id, "debt_advice")
    headers = ctx.sender | {"Idempotency-Key": f"chaos-{time.time_ns()}"}
    calls = await asyncio.gather(
        *(
            timed(lambda: ctx.http.post("/v1/referrals", json=body, headers=headers))
            for _ in range(ctx.clients)
        )
    )
    ids = {r.json()["id"] for _, r in calls if r is not None and r.status_code == 201}
    outcomes = Counter(call.outcome for call, _ in calls)
    stored = await count_subjects(ctx, body["subject"]["family_name"])
    print(f"concurrent creates, one Idempotency-Key: {dict(outcomes)}; ids {len(ids)}, stored {stored}")
    return outcomes["201"] == ctx.clients and len(ids) == 1 and stored == 1


async def count_subjects(ctx: Context, family_name: str) -> int:
    conn = await asyncpg.connect(dsn(ctx))
    try:
        query = (
            "SELECT count(*) FROM referrals r JOIN subjects s ON s.id = r.subject_id WHERE s.family_name = $1"
        )
        return int(await conn.fetchval(query, family_name))
    finally:
        await conn.close()


async def worker_killed_mid_send(ctx: Context, demo: demo_network.Demo, args: argparse.Namespace) -> bool:
    """Webhooks to a receiver on loopback, the worker sending them SIGKILLed mid-batch: none lost."""
    admin = {"Authorization": f"Bearer {await demo_network.client_token(ctx.http, demo, 'debt')}"}
    outcome = await chaos_delivery.run(
        chaos_delivery.Scenario(
            cli=CLI,
            env=environment(ctx.server.database_url),
            log=ctx.pg.root / "worker.log",
            dsn=dsn(ctx),
            http=ctx.http,
            admin=admin,
            create=lambda: create_once(ctx),
            referrals=args.webhook_referrals,
            clients=ctx.clients,
            batch_size=args.webhook_batch_size,
        )
    )
    print("\nworker killed with SIGKILL while sending webhooks, then started again")
    print(outcome.line())
    return outcome.lost == 0


# The last line of a traceback: the exception's qualified name, then its message.
RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Timeout)\w*)(?::|$)", re.MULTILINE)


def server_log_summary(log: Path) -> str:
    """What the server logged: tracebacks by the exception that ended them."""
    text = log.read_text(encoding="utf-8", errors="replace")
    raised = Counter(RAISED.findall(text))
    return (
        f"server log: {text.count('Traceback (most recent call last)')} tracebacks, "
        f"{text.count('Exception in ASGI application')} of them 'Exception in ASGI application'; "
        + (", ".join(f"{n}x {name}" for name, n in raised.most_common()) or "no exceptions")
    )


UNAVAILABLE_SAMPLE = re.compile(r'^http_unavailable_total\{cause="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


async def unavailable_counts(ctx: Context) -> Counter[str]:
    """The server's count of 503s by cause (since it started)."""
    body = (await ctx.http.get("/metrics")).text
    return Counter({cause: int(float(n)) for cause, n in UNAVAILABLE_SAMPLE.findall(body)})


def since(before: Counter[str], after: Counter[str]) -> Counter[str]:
    """What was counted between two readings; all of `after` if the server restarted between."""
    restarted = any(after[cause] < n for cause, n in before.items())
    return +(after if restarted else after - before)


async def faults(ctx: Context, lock_seconds: float) -> list[bool]:
    """Every fault in turn, each reported as it ends."""
    scenarios = [
        ("PostgreSQL fast restart", restart_database(ctx, "fast", 1.0)),
        ("PostgreSQL crash (immediate shutdown, crash recovery)", restart_database(ctx, "immediate", 1.0)),
        ("server killed with SIGKILL and started again", kill_server(ctx)),
        (f"ACCESS EXCLUSIVE lock on referrals for {lock_seconds:.0f} s", lock_referrals(ctx, lock_seconds)),
    ]
    results = []
    for name, fault in scenarios:
        results.append(await report(ctx, await under_load(ctx, name, fault)))
    return results


async def logins(http: httpx.AsyncClient, demo: demo_network.Demo) -> tuple[dict[str, str], dict[str, str]]:
    sender = await demo_network.token(http, demo, "jcp")
    receiver = await demo_network.token(http, demo, "debt")
    return {"Authorization": f"Bearer {sender}"}, {"Authorization": f"Bearer {receiver}"}


async def prepare(pg: Cluster) -> tuple[str, demo_network.Demo]:
    """A migrated database with the demo network; its URL and logins."""
    conn = await asyncpg.connect(pg.url().replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("CREATE DATABASE referrals")
    finally:
        await conn.close()
    url = pg.url("referrals")
    for args in (("migrate",), ("seed-demo", "--json")):
        status, out = await cli(url, *args)
        if status:
            raise RuntimeError(f"referral-exchange {args[0]} failed: {out}")
    return url, __import__("json").loads(out)


async def run(pg: Cluster, args: argparse.Namespace) -> bool:
    url, demo = await prepare(pg)
    server = Server(url, pg.root / "app.log")
    await server.start()
    # Idle connections are dropped before the server's 5 s keep-alive timeout closes them, so a
    # request is never sent on a connection the server is closing at that moment.
    limits = httpx.Limits(
        max_connections=args.clients, max_keepalive_connections=args.clients, keepalive_expiry=2.0
    )
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, limits=limits, timeout=CLIENT_TIMEOUT_SECONDS
        ) as http:
            sender, receiver = await logins(http, demo)
            ctx = Context(
                pg, server, http, sender, receiver, demo_network.service_id(demo, "debt"), args.clients
            )
            results = [] if args.only_webhooks else await faults(ctx, args.lock_seconds)
            if not args.only_webhooks:
                results += [await accepts_with_one_etag(ctx), await creates_with_one_key(ctx)]
            results.append(await worker_killed_mid_send(ctx, demo, args))
            print(f"\n{server_log_summary(server.log)}")
    finally:
        await server.stop()
        if args.server_log:
            shutil.copyfile(server.log, args.server_log)
    return all(results)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients creating referrals")
    parser.add_argument("--lock-seconds", type=float, default=25.0, help="how long the table lock is held")
    parser.add_argument("--server-log", type=Path, help="keep a copy of the server's log here")
    parser.add_argument(
        "--webhook-referrals", type=int, default=300, help="referrals whose webhooks the killed worker sends"
    )
    parser.add_argument(
        "--webhook-batch-size", type=int, help="the worker's --batch-size (default: WEBHOOK_BATCH_SIZE)"
    )
    parser.add_argument("--only-webhooks", action="store_true", help="skip the database and server faults")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with cluster() as pg:
        print(f"PostgreSQL {pg.bin.parent.name} on 127.0.0.1:{pg.port}, data in {pg.data}")
        held = asyncio.run(run(pg, args))
    print("\nall held" if held else "\nSOMETHING DID NOT HOLD")
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
