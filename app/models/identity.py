"""Staff users, API clients, roles and scopes."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow


class Scope(StrEnum):
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    DIRECTORY_WRITE = "directory:write"
    AUDIT_READ = "audit:read"
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    SUBJECTS_EXPORT = "subjects:export"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    AGENCY_ADMIN = "agency_admin"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.CASEWORKER: frozenset({Scope.REFERRALS_READ, Scope.REFERRALS_WRITE}),
    Role.AGENCY_ADMIN: frozenset(
        {Scope.REFERRALS_READ, Scope.REFERRALS_WRITE, Scope.REPORTS_READ, Scope.WEBHOOKS_MANAGE}
    ),
    # Auditors read trails and figures but can never change a referral.
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.REPORTS_READ, Scope.SUBJECTS_EXPORT}),
    Role.ADMIN: frozenset({Scope.DIRECTORY_WRITE, Scope.REPORTS_READ, Scope.SUBJECTS_EXPORT}),
}

# Roles that work inside one agency; the others are platform-wide.
AGENCY_ROLES = frozenset({Role.CASEWORKER, Role.AGENCY_ADMIN})


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=120, unique=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role))
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id", index=True)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_id: str = Field(max_length=80, unique=True)
    secret_hash: str = Field(max_length=255)
    name: str = Field(max_length=200)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id", index=True)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    scope: str
