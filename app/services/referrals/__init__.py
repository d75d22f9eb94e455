"""Referrals: sent with consent, read by their two parties, moved through the state machine."""

from app.services.referrals.access import (
    PartyAccess,
    ReferralFacts,
    audit_for,
    emit_for,
    etag,
    load_for_party,
    resource_headers,
    to_public,
)
from app.services.referrals.appointments import change_appointment
from app.services.referrals.assignment import assign
from app.services.referrals.correcting import correct_person
from app.services.referrals.creating import create, onward_consent_covers
from app.services.referrals.moving import change_public, lock_current, move, status_change, transition
from app.services.referrals.reading import (
    Box,
    BoxFilters,
    BoxSort,
    count_box,
    history,
    list_box,
    status_reasons,
    view_and_stamp,
)

__all__ = [
    "Box",
    "BoxFilters",
    "BoxSort",
    "PartyAccess",
    "ReferralFacts",
    "assign",
    "audit_for",
    "change_appointment",
    "change_public",
    "correct_person",
    "count_box",
    "create",
    "emit_for",
    "etag",
    "history",
    "list_box",
    "load_for_party",
    "lock_current",
    "move",
    "onward_consent_covers",
    "resource_headers",
    "status_change",
    "status_reasons",
    "to_public",
    "transition",
    "view_and_stamp",
]
