"""Keyset paging and the one cursor codec every list uses.

A cursor holds the sort key of the last row a page returned, signed with a key derived from
the service's secret and bound to the list it came from. A cursor that was not issued by this
service for this list is refused before anything in it is parsed.
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.errors import Unprocessable

T = TypeVar("T")
KeyValue = datetime | date | uuid.UUID | int | str
_MAC_BYTES = 16


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class NotOurCursor(Unprocessable):
    """A cursor this service did not issue for this list."""

    def __init__(self) -> None:
        message = "is not a cursor this service issued"
        super().__init__(f"cursor: {message}", errors=[{"field": "cursor", "message": message}])


@lru_cache
def _cursor_key(secret: str) -> bytes:
    # A key of its own, so a cursor can never be mistaken for (or help forge) a token.
    return hmac.new(secret.encode(), b"pagination-cursor-v1", hashlib.sha256).digest()


def _mac(list_name: str, payload: bytes) -> bytes:
    key = _cursor_key(get_settings().jwt_secret.get_secret_value())
    return hmac.new(key, list_name.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _wire(value: KeyValue) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def encode_cursor(list_name: str, values: Sequence[KeyValue]) -> str:
    """A signed, opaque cursor for `list_name` holding the sort key `values`."""
    payload = json.dumps([_wire(v) for v in values], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(list_name, payload))}"


def _verified_payload(list_name: str, cursor: str) -> Any:
    body, _, mac = cursor.partition(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        raise NotOurCursor() from None
    if not hmac.compare_digest(given, _mac(list_name, payload)):
        raise NotOurCursor()
    return json.loads(payload)


def _typed(value: Any, kind: type[KeyValue]) -> KeyValue:
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}")
    return value


def decode_cursor(
    list_name: str, cursor: str | None, kinds: Sequence[type[KeyValue]]
) -> list[KeyValue] | None:
    """The sort key inside a cursor issued for `list_name`, typed as `kinds`; 422 otherwise."""
    if cursor is None:
        return None
    values = _verified_payload(list_name, cursor)
    if not isinstance(values, list) or len(values) != len(kinds):
        raise NotOurCursor()
    try:
        return [_typed(v, k) for v, k in zip(values, kinds, strict=True)]
    except (TypeError, ValueError):  # only a cursor signed with an older key layout gets here
        raise NotOurCursor() from None


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered: a unique key of columns, ascending or descending.

    `name` binds cursors to the list, so a cursor from one list is refused by another.
    `kinds` are the Python types of the key's values, in the same order as `columns`.
    """

    name: str
    columns: tuple[Any, ...]
    kinds: tuple[type[KeyValue], ...]
    descending: bool = False

    def order_by(self) -> list[Any]:
        """The ORDER BY clauses for this key."""
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: Sequence[KeyValue]) -> ColumnElement[bool]:
        """Rows that come after the key `values` in this order."""
        key, bound = tuple_(*self.columns), tuple_(*values)
        return key < bound if self.descending else key > bound

    def key_of(self, row: Any) -> list[KeyValue]:
        """The key values of a row (an ORM object or a result row with the key columns)."""
        return [getattr(row, c.key) for c in self.columns]

    def decode(self, cursor: str | None) -> list[KeyValue] | None:
        """The key inside a cursor issued for this list."""
        return decode_cursor(self.name, cursor, self.kinds)

    def encode(self, row: Any) -> str:
        """A cursor pointing just after `row`."""
        return encode_cursor(self.name, self.key_of(row))


async def keyset_page(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    keyset: Keyset,
    cursor: str | None,
    limit: int,
    *,
    scalars: bool = True,
) -> tuple[list[Any], str | None]:
    """One page of `query` in the keyset's order after `cursor`, and the cursor of the next page.

    Keyed on columns that never change, rows added while a client pages land before or after
    its cursor, and no row is skipped or repeated.
    """
    after = keyset.decode(cursor)
    if after is not None:
        query = query.where(keyset.after(after))
    result = await session.execute(query.order_by(*keyset.order_by()).limit(limit + 1))
    rows = list(result.scalars() if scalars else result.all())
    more, rows = len(rows) > limit, rows[:limit]
    return rows, keyset.encode(rows[-1]) if more else None


async def numbered_page(
    session: AsyncSession, query: Select[*tuple[Any, ...]], order: Sequence[Any], page: int, per_page: int
) -> tuple[list[Any], int]:
    """Page `page` (from 1) of `query` in `order`, and how many rows it has in all.

    For published lists whose clients ask for pages by number (Open Referral UK); lists
    that change while a client pages use keyset cursors instead.
    """
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = int(await session.scalar(counted) or 0)
    found = await session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    return list(found), total


CursorParam = Annotated[
    str | None, Query(description="Opaque cursor from the previous page's `next_cursor`.")
]
LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200).")]
