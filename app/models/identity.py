"""Staff users, API clients, roles and scopes."""

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, EmailStr, field_validator
from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.text_guard import single_line


class Scope(StrEnum):
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    DIRECTORY_WRITE = "directory:write"
    AUDIT_READ = "audit:read"
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    USERS_MANAGE = "users:manage"
    SUBJECTS_EXPORT = "subjects:export"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    AGENCY_ADMIN = "agency_admin"
    AUDITOR = "auditor"
    PLATFORM_ADMIN = "platform_admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.CASEWORKER: frozenset({Scope.REFERRALS_READ, Scope.REFERRALS_WRITE}),
    # Directory writes by an agency admin reach their own agency's services only.
    Role.AGENCY_ADMIN: frozenset(
        {
            Scope.REFERRALS_READ,
            Scope.REFERRALS_WRITE,
            Scope.REPORTS_READ,
            Scope.WEBHOOKS_MANAGE,
            Scope.USERS_MANAGE,
            Scope.DIRECTORY_WRITE,
        }
    ),
    # Auditors read trails and figures but can never change a referral.
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.REPORTS_READ, Scope.SUBJECTS_EXPORT}),
    Role.PLATFORM_ADMIN: frozenset(
        {Scope.DIRECTORY_WRITE, Scope.REPORTS_READ, Scope.USERS_MANAGE, Scope.SUBJECTS_EXPORT}
    ),
}

# Roles that work inside one agency; the others are platform-wide.
AGENCY_ROLES = frozenset({Role.CASEWORKER, Role.AGENCY_ADMIN})


class NotificationKind(StrEnum):
    NEW_REFERRAL = "new_referral"
    REFERRAL_UPDATE = "referral_update"
    MESSAGE = "message"
    OVERDUE_DIGEST = "overdue_digest"
    FOLLOW_UP_DUE = "follow_up_due"
    # To the account's holder when someone issues a new link to set its password. Always sent,
    # at once: it is how a person learns that someone may be taking their account over.
    PASSWORD_LINK = "password_link"  # noqa: S105  (a kind of notification)


class NotificationChoice(StrEnum):
    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"
    OFF = "off"


class Language(StrEnum):
    """The language a member of staff reads the service in."""

    ENGLISH = "en"
    WELSH = "cy"


# Kinds no one chooses how to hear of: not among the notification preferences.
ALWAYS_SENT = frozenset({NotificationKind.PASSWORD_LINK})


def _only_choosable(
    choices: dict[NotificationKind, NotificationChoice] | None,
) -> dict[NotificationKind, NotificationChoice] | None:
    refused = sorted(ALWAYS_SENT & (choices or {}).keys())
    if refused:
        raise ValueError(f"{', '.join(refused)} notices are always sent at once; there is no choice to make")
    return choices


class NotificationPreferences(SQLModel):
    """How a member of staff wants to hear of each kind of notification."""

    new_referral: NotificationChoice = NotificationChoice.IMMEDIATE
    referral_update: NotificationChoice = NotificationChoice.IMMEDIATE
    message: NotificationChoice = NotificationChoice.IMMEDIATE
    overdue_digest: NotificationChoice = NotificationChoice.IMMEDIATE
    follow_up_due: NotificationChoice = NotificationChoice.IMMEDIATE

    def choice(self, kind: NotificationKind) -> NotificationChoice:
        # A kind that is always sent has no preference of its own.
        value: NotificationChoice = getattr(self, kind.value, NotificationChoice.IMMEDIATE)
        return value


AWAY_UNTIL = (
    "When they are back: they are away before this moment (null: not away). The staff pages set it "
    "to midnight, UK time, at the end of the last day away, and show that last day."
)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,119}$")


class UserBase(SQLModel):
    username: str = Field(max_length=120, unique=True)
    display_name: str = Field(default="", max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    role: Role = Field(sa_type=enum_type(Role))
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id", index=True)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # None until the person sets one through their set-password link.
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    # The moment they are back: away before it. Someone whose last day away is 20 December is
    # away until midnight (UK time) starting 21 December, and shown as away until 20 December.
    away_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notification_preferences: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    language: Language = Field(
        default=Language.ENGLISH,
        sa_column=Column(enum_type(Language), nullable=False, server_default=Language.ENGLISH.value),
    )
    # Raised whenever the account's existing tokens must stop working.
    token_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def preferences(self) -> NotificationPreferences:
        return NotificationPreferences.model_validate(self.notification_preferences or {})

    def is_away(self, now: datetime) -> bool:
        return self.away_until is not None and self.away_until > now


class UserCreate(SQLModel):
    username: str = Field(min_length=2, max_length=120)
    display_name: str = Field(default="", max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    role: Role
    # An agency admin's staff join their agency; a platform admin names it.
    agency_id: uuid.UUID | None = None

    @field_validator("username")
    @classmethod
    def _plain_username(cls, value: str) -> str:
        value = value.strip().lower()
        if not USERNAME.match(value):
            raise ValueError("use lower-case letters, digits and . _ @ - (2 to 120 characters)")
        return value

    # Shown beside every referral the person handles: one line, no direction tricks.
    _plain_display_name = field_validator("display_name")(single_line)


class UserUpdate(SQLModel):
    active: bool | None = None
    role: Role | None = None
    display_name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    away_until: AwareDatetime | None = Field(default=None, description=AWAY_UNTIL)
    notification_preferences: dict[NotificationKind, NotificationChoice] | None = None
    language: Language | None = None

    _plain_display_name = field_validator("display_name")(single_line)
    _choosable = field_validator("notification_preferences")(_only_choosable)


class MeUpdate(SQLModel):
    """What staff change about themselves: their name, absence, notification preferences and language."""

    display_name: str | None = Field(default=None, max_length=200)
    away_until: AwareDatetime | None = Field(default=None, description=AWAY_UNTIL)
    notification_preferences: dict[NotificationKind, NotificationChoice] | None = None
    language: Language | None = Field(default=None, description="`en` (English) or `cy` (Cymraeg).")

    _plain_display_name = field_validator("display_name")(single_line)
    _choosable = field_validator("notification_preferences")(_only_choosable)


class UserPublic(SQLModel):
    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: Role
    agency_id: uuid.UUID | None
    active: bool
    away_until: datetime | None = Field(description=AWAY_UNTIL)
    notification_preferences: NotificationPreferences
    language: Language
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        values = {name: getattr(user, name) for name in UserBase.model_fields}
        return cls.model_validate(
            values
            | {
                "id": user.id,
                "active": user.is_active,
                "away_until": user.away_until,
                "notification_preferences": user.preferences(),
                "language": user.language,
                "created_at": user.created_at,
                "last_login_at": user.last_login_at,
            }
        )


class PasswordLinkIssued(SQLModel):
    set_password_link: str = Field(description="Single use, valid 72 hours; shown only in this response.")
    set_password_expires_at: datetime


class PasswordLinkReissued(PasswordLinkIssued):
    user_emailed: bool = Field(
        description="Whether the user is told by email that a new link was issued (never the link itself). "
        "False when their account has no email address: tell them yourself."
    )


class UserCreated(UserPublic, PasswordLinkIssued):
    user_emailed: bool = Field(
        description="Whether the set-password link is emailed to the user. False when their account has "
        "no email address: give them the link yourself."
    )


class PasswordLink(SQLModel, table=True):
    """A single-use link through which a user sets their password; only its hash is kept."""

    __tablename__ = "password_links"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SetPassword(SQLModel):
    token: str = Field(min_length=20, max_length=200)
    # NCSC: length over complexity rules (three random words make a good password).
    password: str = Field(min_length=12, max_length=200)


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_id: str = Field(max_length=80, unique=True)
    secret_hash: str = Field(max_length=255)
    name: str = Field(max_length=200)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id", index=True)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    is_active: bool = True
    token_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    scope: str
