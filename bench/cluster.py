"""A throwaway PostgreSQL instance: initdb in a temporary directory, served on a loopback port.

The fault scenarios restart, crash and lock the database; they need a server of their own,
never the machine's shared one. initdb and the server refuse to run as root, so when run as
root the binaries run as the `postgres` user.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_OWNER = "postgres"


def _newest_bin() -> Path:
    """The bin directory of the newest PostgreSQL installed from Debian's packages."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Cluster:
    """One PostgreSQL data directory and the port its server listens on."""

    root: Path
    port: int
    bin: Path
    owner: str | None  # the user the server runs as, when this process is root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for a database on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, check: bool = True) -> None:
        """Run one of the server's programs (as its owner) and wait for it."""
        command = [str(self.bin / program), *args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=120)  # noqa: S603

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (a clean shutdown) or `immediate` (as a crash)."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def postmaster_pid(self) -> int:
        """The pid of the running server's postmaster."""
        return int((self.data / "postmaster.pid").read_text(encoding="utf-8").split()[0])


def _owned_directory(owner: str | None) -> Path:
    """A private temporary directory the server's owner can use."""
    root = Path(tempfile.mkdtemp(prefix="rx-chaos-"))
    if owner:
        record = pwd.getpwnam(owner)
        root.chmod(0o700)
        os.chown(root, record.pw_uid, record.pw_gid)
    return root


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A new cluster, started; stopped and removed afterwards whatever happens."""
    owner = SERVER_OWNER if os.geteuid() == 0 else None
    root = _owned_directory(owner)
    made = Cluster(root, free_port(), _newest_bin(), owner)
    try:
        made.run("initdb", "-D", str(made.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        made.start()
        yield made
    finally:
        made.run("pg_ctl", "-D", str(made.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
