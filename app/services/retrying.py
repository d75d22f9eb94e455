"""The worker's retry helpers live in app.persistence.retrying; this name stays for the notifications
package until it imports them from there."""

from app.persistence.retrying import backoff, released

__all__ = ["backoff", "released"]
