"""A worker killed with SIGKILL in the middle of sending webhooks: what was sent twice, what was lost.

A receiver on loopback subscribes the debt-advice agency to its events; clients create referrals
to it; `referral-exchange audit seal` publishes their events, which queues a delivery each; then
a `referral-exchange worker` sends them. Once a quarter have arrived, in the middle of a batch (all
its requests sent, some answered, the rest in flight), the worker is killed and another started.
When every delivery is recorded as sent, the receiver's counts say what the kill cost: the
deliveries it received twice (the worker had sent them and not yet recorded it; they are sent
again when their lease runs out), and any it never received. Receivers de-duplicate by
`webhook-id`; the contract is at least once, so losses must be 0.
"""

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.receiver import Receiver, receiving

# Each answer takes between these (drawn anew for each), so a batch is in flight a while and its
# answers come back one by one.
RECEIVER_DELAYS_SECONDS = (0.05, 0.6)
# A batch has all arrived, and about half its answers have gone back, once no request has arrived
# for this long: the kill comes then, in the middle of the batch.
MID_BATCH_SECONDS = 0.3
LEASE_SECONDS = 5  # the killed worker's claims are sent again this long after they were made
DRAIN_LIMIT_SECONDS = 120.0
# The worker sends promptly and gives a killed batch back soon; private targets for the receiver.
WORKER_ENVIRONMENT = {
    "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_POLL_INTERVAL_SECONDS": "0.2",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
}


@dataclass(frozen=True)
class Outcome:
    """What the receiver got of the deliveries the database holds for its subscription."""

    deliveries: int
    received: int
    duplicates: int
    lost: int
    in_flight_at_kill: int
    batch_size: int | None

    def line(self) -> str:
        batch = f"batch size {self.batch_size}" if self.batch_size else "default batch size"
        return (
            f"  deliveries {self.deliveries}, received {self.received} ({batch}); "
            f"in flight at the kill {self.in_flight_at_kill}; "
            f"duplicates {self.duplicates}, lost {self.lost}"
        )


@contextlib.asynccontextmanager
async def worker(
    cli: str, env: dict[str, str], log: Path, batch_size: int | None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`referral-exchange worker`, stopped (SIGTERM) at the end unless it was killed."""
    command = [cli, "worker", *(["--batch-size", str(batch_size)] if batch_size else [])]
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env=env | WORKER_ENVIRONMENT, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def subscribe(http: httpx.AsyncClient, admin: dict[str, str], url: str) -> str:
    response = await http.post("/v1/webhooks", json={"url": url, "description": "chaos"}, headers=admin)
    response.raise_for_status()
    return str(response.json()["id"])


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


async def open_deliveries(dsn: str, subscription_id: str) -> tuple[int, set[str]]:
    """How many deliveries the subscription has not yet had answered, and every event id it holds."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT event_id::text AS event_id, status FROM webhook_deliveries WHERE subscription_id = $1",
            subscription_id,
        )
    finally:
        await conn.close()
    return sum(r["status"] != "succeeded" for r in rows), {r["event_id"] for r in rows}


async def kill_mid_send(
    receiver: Receiver,
    start: Callable[[], contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]],
    expected: int,
) -> int:
    """Start a worker and SIGKILL it in the middle of a batch, once a quarter has arrived; the
    requests then in flight."""
    async with start() as process:

        async def mid_send() -> bool:
            settled = time.monotonic() - receiver.last_arrival > MID_BATCH_SECONDS
            return receiver.received >= expected // 4 and receiver.in_flight > 0 and settled

        if not await wait_for(mid_send, DRAIN_LIMIT_SECONDS):
            raise RuntimeError("the worker never sent while the scenario watched")
        in_flight = receiver.in_flight
        process.send_signal(signal.SIGKILL)
        await process.wait()
    return in_flight


@dataclass(frozen=True)
class Scenario:
    """What the scenario needs of the running system."""

    cli: str
    env: dict[str, str]
    log: Path
    dsn: str
    http: httpx.AsyncClient
    admin: dict[str, str]  # a token of the receiving agency with webhooks:manage
    create: Callable[[], Awaitable[object]]  # one referral to that agency
    referrals: int
    clients: int
    batch_size: int | None


async def run(scenario: Scenario) -> Outcome:
    """Subscribe, create the referrals, kill a worker mid-send, let another finish; the counts."""
    with receiving(*RECEIVER_DELAYS_SECONDS) as receiver:
        subscription_id = await subscribe(scenario.http, scenario.admin, receiver.url)
        await _create(scenario)
        await _seal(scenario)  # every delivery queued before the worker starts: full batches

        def start() -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
            return worker(scenario.cli, scenario.env, scenario.log, scenario.batch_size)

        in_flight = await kill_mid_send(receiver, start, scenario.referrals)
        async with start():
            await _drained(scenario.dsn, subscription_id)
        _, expected = await open_deliveries(scenario.dsn, subscription_id)
    duplicates = sum(n - 1 for n in receiver.seen.values() if n > 1)
    lost = len(expected - set(receiver.seen))
    return Outcome(len(expected), receiver.received, duplicates, lost, in_flight, scenario.batch_size)


async def _create(scenario: Scenario) -> None:
    queue = list(range(scenario.referrals))

    async def client() -> None:
        while queue:
            queue.pop()
            await scenario.create()

    await asyncio.gather(*(client() for _ in range(scenario.clients)))


async def _seal(scenario: Scenario) -> None:
    process = await asyncio.create_subprocess_exec(
        scenario.cli, "audit", "seal", env=scenario.env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait():
        raise RuntimeError("referral-exchange audit seal failed")


async def _drained(dsn: str, subscription_id: str) -> None:
    async def done() -> bool:
        waiting, held = await open_deliveries(dsn, subscription_id)
        return bool(held) and waiting == 0

    if not await wait_for(done, DRAIN_LIMIT_SECONDS):
        raise RuntimeError("the deliveries were not all sent in time")
