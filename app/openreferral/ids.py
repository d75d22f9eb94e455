"""Identifiers of the published records that the exchange does not store as rows.

HSDS gives every record (a service's language, its area, its link to a taxonomy term) a UUID
of its own. Stored rows publish their own ids; the others are UUIDv5 names of what they are
(`language:<service id>:cy`), so they are the same in every response and every day.
"""

import uuid

from app.models.directory import Purpose

NAMESPACE = uuid.UUID("0c7bd54e-5e0b-4d36-9a0c-5f3c1b0f6e21")
PURPOSE_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:purpose")


def derived(kind: str, *parts: object) -> uuid.UUID:
    """The id of a record named by its kind and what it belongs to."""
    return uuid.uuid5(NAMESPACE, ":".join([kind, *(str(p) for p in parts)]))


def purpose_term_id(purpose: Purpose) -> uuid.UUID:
    return derived("purpose", purpose.value)


PURPOSE_BY_TERM_ID = {purpose_term_id(p): p for p in Purpose}


def purpose_of_term(term_id: str) -> Purpose | None:
    """The purpose a published taxonomy term id stands for (None: not one of ours)."""
    try:
        return PURPOSE_BY_TERM_ID.get(uuid.UUID(term_id))
    except ValueError:
        return None


def location_id(service_location_id: uuid.UUID) -> uuid.UUID:
    """A location's published id; its row's own id is published as the service-at-location's."""
    return derived("location", service_location_id)
