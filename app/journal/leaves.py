"""What a leaf of the audit log is: an event's RFC 8785 canonical JSON, hashed as RFC 9162 says."""

import json
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring
from typing import Any, Protocol

import rfc8785
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import format_time
from app.journal.merkle import leaf_hash

_EXACT_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles


class LeafSource(Protocol):
    """The stored columns of an audit event that its leaf covers."""

    at: Any
    actor_kind: Any
    actor_id: str | None
    actor_agency_id: Any
    action: str
    entity_type: str
    entity_id: str | None
    referral_id: Any
    subject_id: Any
    details: Any


LEAF_COLUMNS = tuple(LeafSource.__annotations__)


def _plain(value: object) -> bool:
    """Whether `json.dumps` writes `value` exactly as RFC 8785 does (see docs/architecture.md)."""
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_EXACT_INTEGER <= value <= _EXACT_INTEGER
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() for k in value) and _all_plain(value.values())
    return isinstance(value, list | tuple) and _all_plain(value)


def _all_plain(values: Iterable[object]) -> bool:
    # map, not a generator expression: this runs for every leaf sealed and verified.
    return all(map(_plain, values))


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON: by the standard library's C encoder where its output is the same."""
    if _plain(value):
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, refused below as the reference does
            pass
    return bytes(rfc8785.dumps(value))


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def _string(value: object | None) -> str:
    """A JSON string (or null) as RFC 8785 writes it: only quote, backslash and controls escaped."""
    return "null" if value is None else encode_basestring(str(value))


# The wire shape's keys in RFC 8785 order (all ASCII, so code-point order is UTF-16 order).
_LEAF = (
    '{"action":%s,"actor":{"agency_id":%s,"id":%s,"kind":%s},"at":"%s","details":%s,'
    '"entity_id":%s,"entity_type":%s,"referral_id":%s,"subject_id":%s}'
)


def leaf_data(row: Sequence[Any]) -> bytes:
    """RFC 8785 JSON of the event whose LEAF_COLUMNS values start `row`: its wire shape without
    `seq` and `leaf_hash`, written field by field (see docs/architecture.md)."""
    at, kind, actor_id, agency, action, entity_type, entity_id, referral, subject, details = row[:10]
    try:
        text = _LEAF % (
            _string(action),
            _string(agency),
            _string(actor_id),
            _string(kind),
            format_time(at),
            canonical_json(details).decode("utf-8"),
            _string(entity_id),
            _string(entity_type),
            _string(referral),
            _string(subject),
        )
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which the reference encoder refuses as RFC 8785 says
        return bytes(rfc8785.dumps(leaf_document(row)))


def leaf_document(row: Sequence[Any]) -> dict[str, Any]:
    """The event as its wire shape shows it, without `seq` and `leaf_hash`."""
    return {
        "action": row[4],
        "actor": {"agency_id": _text(row[3]), "id": row[2], "kind": str(row[1])},
        "at": format_time(row[0]),
        "details": row[9],
        "entity_id": row[6],
        "entity_type": row[5],
        "referral_id": _text(row[7]),
        "subject_id": _text(row[8]),
    }


def row_leaf_hash(row: Sequence[Any]) -> bytes:
    """SHA-256(0x00 || RFC 8785 JSON of the event) for a row that starts with LEAF_COLUMNS."""
    return leaf_hash(leaf_data(row))


def event_leaf_hash(event: LeafSource) -> bytes:
    """The leaf hash of an event read as an object."""
    return row_leaf_hash([getattr(event, name) for name in LEAF_COLUMNS])


async def fetch_plain(
    session: AsyncSession, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `statement` as plain sequences, on PostgreSQL straight from asyncpg: for a batch of
    leaves, SQLAlchemy's result processing cost more than hashing them, and the values make the same leaf."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        found: Sequence[Sequence[Any]] = (await connection.execute(statement, params)).all()
        return found
    compiled = statement.compile(dialect=connection.dialect)
    values = compiled.construct_params(params)
    driver: Any = (await connection.get_raw_connection()).driver_connection
    rows: Sequence[Sequence[Any]] = await driver.fetch(
        compiled.string, *(values[name] for name in compiled.positiontup or ())
    )
    return rows
