"""Timing samples and the figures printed for them."""

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Sample:
    """Latencies (seconds) of one scenario's requests and the wall time they took together."""

    name: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    server_cpu: float = 0.0  # seconds of CPU the server process spent on the whole scenario
    client_cpu: float = 0.0  # the same for the load generator
    machine_busy: float = 0.0  # share of all CPUs' time that was not idle

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def percentile(self, pct: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]

    def line(self, baseline: "Sample | None" = None) -> str:
        text = (
            f"{self.name:<22} {len(self.latencies):>6} req {self.rps:>8.0f} req/s  "
            f"p50 {self.percentile(50) * 1000:>7.2f} ms  p99 {self.percentile(99) * 1000:>7.2f} ms"
        )
        if self.server_cpu and self.latencies:
            text += f"  server CPU {self.server_cpu / len(self.latencies) * 1000:>5.2f} ms/req"
            text += f"  client CPU {self.client_cpu / len(self.latencies) * 1000:>5.2f} ms/req"
            text += f"  CPUs {self.machine_busy:>4.0%} busy"
        if baseline is not None and baseline.rps:
            text += f"  {self.rps / baseline.rps:>6.1%} of {baseline.name} throughput"
        return text + (f"  ({self.errors} errors)" if self.errors else "")


async def timed(sample: Sample, call: Callable[[], Awaitable[bool]]) -> None:
    """Run one request, recording its latency, or an error when it did not succeed."""
    started = time.perf_counter()
    ok = await call()
    elapsed = time.perf_counter() - started
    if ok:
        sample.latencies.append(elapsed)
    else:
        sample.errors += 1


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and every process below it (uvicorn's workers)."""
    return process_cpu(pid) + sum(tree_cpu(child) for child in _children(pid))


def own_cpu() -> float:
    """CPU seconds this process (the load generator) has used so far."""
    times = os.times()
    return times.user + times.system


def machine_times() -> tuple[int, int]:
    """Busy and total CPU time of the whole machine so far, in clock ticks (Linux /proc)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = ticks[3] + ticks[4]  # idle and waiting for I/O
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def best(samples: list[Sample]) -> Sample:
    """The run with the highest throughput (the least disturbed by other work on the machine)."""
    return max(samples, key=lambda s: s.rps)
