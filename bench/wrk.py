"""One load scenario driven by wrk: its throughput and latency, and the CPU wrk itself used."""

import asyncio
import json
import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.stats import busy_share, machine_times, tree_cpu

SCRIPTS = Path(__file__).with_name("wrk")
INSTALL = "wrk is not installed: `apt-get install wrk` (Debian, Ubuntu) or `brew install wrk` (macOS)"


def require() -> str:
    """wrk's path, or exit saying how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(INSTALL)
    return found


@dataclass(frozen=True)
class Load:
    """How hard to push: wrk's threads and open connections, for how long."""

    seconds: int = 10
    connections: int = 32
    threads: int = 2


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrk_cpu: float  # CPU seconds wrk used
    server_cpu: float  # CPU seconds the server's processes used
    sealer_cpu: float  # CPU seconds the sealing worker used
    machine_busy: float  # share of all CPUs' time that was not idle

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def per_request_ms(self, cpu: float) -> float:
        return cpu / self.requests * 1000 if self.requests else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run(
    name: str, url: str, script: str, env: dict[str, str], load: Load, pids: tuple[int, int]
) -> Result:
    """Run one scenario with a script from bench/wrk; `pids`: the server's and the sealer's processes."""
    command = [
        require(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(SCRIPTS / script), url]
    extra = {"BENCH_WRK_DIR": str(SCRIPTS), "BENCH_THREADS": str(load.threads)}
    before = (_children_cpu(), tree_cpu(pids[0]), tree_cpu(pids[1]), machine_times())
    process = await asyncio.create_subprocess_exec(
        *command, env=os.environ | env | extra, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    figures = json.loads(output.decode().strip().splitlines()[-1])
    return Result(
        name=name,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["socket_errors"] + figures["non_2xx"],
        wrk_cpu=_children_cpu() - before[0],
        server_cpu=tree_cpu(pids[0]) - before[1],
        sealer_cpu=tree_cpu(pids[1]) - before[2],
        machine_busy=busy_share(before[3], machine_times()),
    )
