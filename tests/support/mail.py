"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, and worker settings for it."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from app.config import Settings, get_settings


@dataclass
class Mailbox:
    """Every message the server accepted, as (recipients, parsed message)."""

    received: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.received if address in rcpt]

    def texts(self) -> list[str]:
        return [f"{m['Subject']}\n{m.get_payload(decode=True).decode()}" for _, m in self.received]  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, Settings]]:
    """The server, and settings that send notifications through it."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = get_settings().model_copy(
        update={
            "notify_backend": "smtp",
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{port}"),
            "notify_retry_base_seconds": 1.0,
        }
    )
    try:
        yield mailbox, settings
    finally:
        controller.stop()
