"""Notifications to staff: who is told what, queued with the change, sent by the worker."""

from app.services.notifications.queueing import (
    appointment_changed,
    follow_up_due,
    message_posted,
    outcome_recorded,
    referral_created,
    referral_moved,
)

__all__ = [
    "appointment_changed",
    "follow_up_due",
    "message_posted",
    "outcome_recorded",
    "referral_created",
    "referral_moved",
]
