"""A TCP proxy in front of the test database, which a test can cut to make the database go away.

`close()` stops listening and drops every connection through it, as a database that stops or
a network that fails would; new connections are then refused. `open()` listens again on the
same port. `starting_up()` answers new connections the way a PostgreSQL server that is still
starting does (SQLSTATE 57P03) instead of passing them on. `announce_shutdown()` sends each
client the notice a server sends as it shuts down (57P01), but keeps the sockets open, as
they are in the moment before the server's close reaches the client.
"""

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator

SSL_REQUEST = 80877103


def _fatal(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message of severity FATAL."""
    fields = f"SFATAL\x00VFATAL\x00C{sqlstate}\x00M{message}\x00\x00".encode()
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


CANNOT_CONNECT_NOW = _fatal("57P03", "the database system is starting up")
ADMIN_SHUTDOWN = _fatal("57P01", "terminating connection due to administrator command")


class TcpProxy:
    """Forwards 127.0.0.1:port to the upstream address, until told otherwise."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.refuse_as_starting = False
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        """Listen (again, on the same port once one was chosen) and pass connections on."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._streams):
            writer.transport.abort()
        self._streams.clear()
        self._clients.clear()

    async def announce_shutdown(self) -> None:
        """Send every client connection the server's shutdown notice, and nothing more."""
        for writer in self._clients:
            writer.write(ADMIN_SHUTDOWN)
            await writer.drain()

    def starting_up(self, refusing: bool = True) -> None:
        """Answer new connections as a server still starting up (existing ones are unaffected)."""
        self.refuse_as_starting = refusing

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._streams.add(writer)
        try:
            if self.refuse_as_starting:
                await _refuse_as_starting(reader, writer)
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._streams.add(up_writer)
            self._clients.add(writer)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except OSError:
            pass
        finally:
            self._clients.discard(writer)
            writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.transport.abort()


async def _refuse_as_starting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the client's start-up packet (declining SSL first if asked) and send 57P03."""
    while True:
        length = struct.unpack("!I", await reader.readexactly(4))[0]
        packet = await reader.readexactly(length - 4)
        if struct.unpack("!I", packet[:4])[0] != SSL_REQUEST:
            break
        writer.write(b"N")
    writer.write(CANNOT_CONNECT_NOW)
    await writer.drain()


@contextlib.asynccontextmanager
async def proxy_to(host: str, port: int) -> AsyncIterator[TcpProxy]:
    """A proxy, open, to host:port; closed afterwards."""
    proxy = TcpProxy(host, port)
    await proxy.open()
    try:
        yield proxy
    finally:
        await proxy.close()


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
