"""Recording the server with py-spy during one scenario, and where its CPU time went.

py-spy samples the server's processes from outside (no change to the code under test) and writes
collapsed stacks; the summary groups each sample by the package of the function it was in.
"""

import asyncio
import contextlib
import re
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
INSTALL = "py-spy is not installed: `.venv/bin/pip install py-spy`"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit(INSTALL)
    return found


@contextlib.asynccontextmanager
async def recording(pid: int, name: str) -> AsyncIterator[None]:
    """Sample `pid` and its child processes while the body runs, then print the summary."""
    RESULTS.mkdir(exist_ok=True)
    output = RESULTS / f"profile-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{pid}.txt"
    # Each sample pauses the process for a consistent stack: accurate, and slower than unprofiled.
    command = [_spy(), "record", "--pid", str(pid), "--subprocesses", "--rate", "200"]
    command += ["--format", "raw", "--output", str(output)]
    spy = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
    print(f"\npy-spy profile of the server during {name!r}: {output}")
    print(summary(output.read_text(encoding="utf-8")))


def _package(file: str) -> str:
    """`sqlalchemy`, `asyncpg`, `app/journal`, `asyncio`...: what a frame's file belongs to.

    py-spy shows files relative to their import root (`sqlalchemy/orm/session.py`).
    """
    file = file.split("site-packages/", 1)[-1]
    parts = file.split("/")
    if parts[0] == "app" and len(parts) > 2:
        return f"app/{parts[1]}"
    return parts[0].removesuffix(".py") if len(parts) > 1 else "stdlib " + parts[0].removesuffix(".py")


def _leaf(stack: str) -> tuple[str, str]:
    """The innermost Python frame of a collapsed stack: its function and package."""
    for frame in reversed(stack.split(";")):
        found = _FRAME.match(frame.strip())
        if found:
            return found["function"], _package(found["file"])
    return "?", "?"


def summary(collapsed: str, top: int = 14) -> str:
    """Self time by package and by function, as shares of every sample taken."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        function, package = _leaf(stack)
        by_package[package] += int(count)
        by_function[f"{package}: {function}"] += int(count)
    total = sum(by_package.values()) or 1
    ours = sum(n for name, n in by_package.items() if name.startswith("app"))
    lines = [f"{total} samples; the service's own code (app/) {ours / total:.1%}; self time by package:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_package.most_common(top)]
    lines.append("self time by function:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_function.most_common(top)]
    return "\n".join(lines)
