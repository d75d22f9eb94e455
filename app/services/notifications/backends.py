"""Where notifications go: the console (`log`), an SMTP server (`smtp`) or GOV.UK Notify (`govuk_notify`)."""

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from notifications_python_client.notifications import NotificationsAPIClient

from app.config import Settings

logger = logging.getLogger("app.notifications")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification as a backend sends it."""

    id: str
    kind: str
    to: str
    subject: str
    body: str
    reference: str | None
    link: str | None
    # A credential in the body (a new account's set-password link): sent, but never logged.
    withheld: str | None = None
    # The language it is written in (null: Welsh and English both).
    language: str | None = None


class Backend(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Send it, or raise: any exception is a failed attempt, retried later."""


class LogBackend:
    """Development: the message is written to the console (the address is not)."""

    async def send(self, message: Outgoing) -> None:
        body = (
            message.body.replace(message.withheld, "[withheld from the log]")
            if message.withheld
            else message.body
        )
        logger.info("notification %s (%s): %s\n%s", message.id, message.kind, message.subject, body)


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None


def smtp_target(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:587?starttls=true`, or `smtps://...` for TLS from the start."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:pass@host:587?starttls=true")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", [""])[0].lower()
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        # Unset: aiosmtplib upgrades when the server offers it.
        start_tls={"true": True, "false": False}.get(starttls),
    )


class SmtpBackend:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_url is not None
        self.target = smtp_target(settings.smtp_url.get_secret_value())
        self.sender = settings.notify_from_address
        self.timeout = settings.notify_timeout_seconds

    async def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.to, message.subject
        email["Message-ID"] = f"<{message.id}@referral-exchange>"
        email.set_content(message.body)
        target = self.target
        await aiosmtplib.send(
            email,
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=self.timeout,
        )


class NotifyBackend:
    """GOV.UK Notify: one email template per kind, given `subject`, `body`, `reference` and `link`."""

    def __init__(self, settings: Settings) -> None:
        assert settings.notify_api_key is not None
        self.api_key, self.base_url = settings.notify_api_key.get_secret_value(), settings.notify_base_url
        self.timeout, self.templates = int(settings.notify_timeout_seconds), settings.notify_template_ids

    def template_for(self, message: Outgoing) -> str:
        """The kind's template in the message's language (`kind:cy`) where one is given, else the kind's."""
        return self.templates.get(f"{message.kind}:{message.language}") or self.templates[message.kind]

    async def send(self, message: Outgoing) -> None:
        personalisation = {
            "subject": message.subject,
            "body": message.body,
            "reference": message.reference or "",
            "link": message.link or "",
        }
        # The client is synchronous and not thread-safe: one per send, each in a thread of its own.
        client = NotificationsAPIClient(self.api_key, base_url=self.base_url, timeout=self.timeout)
        await asyncio.to_thread(
            client.send_email_notification,
            email_address=message.to,
            template_id=self.template_for(message),
            personalisation=personalisation,
            reference=message.id,
        )


def backend_for(settings: Settings) -> Backend:
    """The backend `NOTIFY_BACKEND` names."""
    if settings.notify_backend == "smtp":
        return SmtpBackend(settings)
    if settings.notify_backend == "govuk_notify":
        return NotifyBackend(settings)
    return LogBackend()
