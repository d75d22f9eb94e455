"""The application served by a real uvicorn on loopback, and one raw keep-alive connection to it.

ASGI test transports hide what the server does with a connection after an error; these show
it: requests go one after another over a single TCP connection, as a client's pool sends them.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import h11
import uvicorn
from fastapi import FastAPI


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[int]:
    """Serve `app` on a free loopback port (yielded) until the body ends."""
    # No lifespan: the test session owns the engine. No log config: pytest captures the logs.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class KeepAliveConnection:
    """One HTTP/1.1 connection, reused for every request until the server closes it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.http = h11.Connection(h11.CLIENT)

    async def request(self, method: str, path: str, body: bytes = b"", **headers: str) -> Answer:
        """Send one request and read its whole answer; ConnectionError if the server closed."""
        if self.http.our_state is h11.DONE:
            self.http.start_next_cycle()
        fields = [("Host", "test"), ("Content-Length", str(len(body))), *headers.items()]
        for event in (h11.Request(method=method, target=path, headers=fields), h11.Data(data=body)):
            self.writer.write(self.http.send(event) or b"")
        self.writer.write(self.http.send(h11.EndOfMessage()) or b"")
        await self.writer.drain()
        return await self._answer()

    async def _answer(self) -> Answer:
        answer = Answer(0, {}, b"")
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                self._receive(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                answer.status = event.status_code
                answer.headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                answer.body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return answer

    def _receive(self, data: bytes) -> None:
        if not data:
            raise ConnectionResetError("the server closed the connection before answering")
        self.http.receive_data(data)


@contextlib.asynccontextmanager
async def connected(port: int) -> AsyncIterator[KeepAliveConnection]:
    """A keep-alive connection to the server on `port`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield KeepAliveConnection(reader, writer)
    finally:
        writer.close()
