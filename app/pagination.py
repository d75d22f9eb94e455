"""Opaque keyset cursors and the page envelope every list returns."""

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import Unprocessable

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    """An opaque cursor holding the sort key of the last row returned."""
    raw = json.dumps([str(v) if not isinstance(v, int) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """The sort key inside a cursor, or a 422 naming `cursor` when it is not one of ours."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Unprocessable.field("cursor", "is not a cursor this service issued") from None
    if not isinstance(values, list) or len(values) != arity:
        raise Unprocessable.field("cursor", "is not a cursor this service issued")
    return values


CursorParam = Annotated[
    str | None, Query(description="Opaque cursor from the previous page's `next_cursor`.")
]
LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200).")]
