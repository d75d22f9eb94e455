"""Signed-in sessions of the staff pages, kept on the server; the browser holds only a random id.
And what a form held when it was sent too late, kept for signing in again."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, utcnow
from app.encryption import EncryptedText


class WebSession(SQLModel, table=True):
    __tablename__ = "web_sessions"

    # SHA-256 of the cookie's value: a copy of this table signs no one in.
    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # The account's token version at sign-in: a new password, a new role or a deactivation raises
    # the account's, and a session signed in before any of them ends at its next request.
    token_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # The referral being made, page by page; it goes with the session.
    draft: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class KeptForm(SQLModel, table=True):
    """What was typed into a form sent after its session had run out, kept for the same user's
    next sign-in on the same browser (which holds only a random id for it), and for a short time."""

    __tablename__ = "kept_forms"

    # SHA-256 of the cookie's value.
    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # The page the form was on: where signing in again goes back to, and where it is filled in.
    page_path: str = Field(max_length=500)
    # The fields and any referral part made, as JSON, encrypted: they may hold personal data.
    content: str = Field(sa_type=EncryptedText)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
