"""A webhook receiver on loopback that counts what arrives: each `webhook-id` as the request is read,
the requests still being answered; it answers 204 after a delay drawn between `fastest` and
`slowest` seconds (so a batch is in flight a while, and its answers come back at different times).
"""

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # A whole batch connects at once; the default backlog of 5 would make most of it wait a second.
    request_queue_size = 256
    daemon_threads = True


class Receiver:
    """Counts every webhook-id it is sent; `in_flight` is how many requests it is still answering."""

    def __init__(self, fastest: float, slowest: float) -> None:
        self.fastest, self.slowest = fastest, slowest
        self._random = random.Random(20261208)  # the same delays on every run
        self.seen: Counter[str] = Counter()
        self.in_flight = 0
        self.last_arrival = 0.0  # time.monotonic() of the latest request
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    @property
    def received(self) -> int:
        with self._lock:
            return sum(self.seen.values())

    def _arrived(self, webhook_id: str) -> float:
        """Count the request; how long to take answering it."""
        with self._lock:
            self.seen[webhook_id] += 1
            self.in_flight += 1
            self.last_arrival = time.monotonic()
            return self._random.uniform(self.fastest, self.slowest)

    def _answered(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # Processed as soon as it is read, as a receiver would: whether the sender hears
                # the answer is another matter.
                delay = receiver._arrived(self.headers.get("webhook-id", ""))
                try:
                    time.sleep(delay)
                    with contextlib.suppress(OSError):  # the sender died meanwhile
                        self.send_response(204)
                        self.end_headers()
                finally:
                    receiver._answered()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextlib.contextmanager
def receiving(fastest: float, slowest: float) -> Iterator[Receiver]:
    """A receiver serving on a thread of its own until the body ends."""
    receiver = Receiver(fastest, slowest)
    thread = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
