"""Teams: staff accounts with token versions, set-password links, assignment, read state,
notifications, and services that agencies keep up to date

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-25 22:20:00.000000

The platform role `admin` is renamed `platform_admin`. A service's `area_served` becomes a list
of postcode areas and districts (empty: everywhere): codes found in the old text are kept, and
a service whose text named none serves everywhere until its agency says otherwise.
"""

import json
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
WHEN = sa.DateTime(timezone=True)
AREA_CODE = re.compile(r"\b[A-Z]{1,2}[0-9][0-9A-Z]?\b")


def _folded(*parts: str) -> str:
    text = unicodedata.normalize("NFKD", " ".join(parts).casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def upgrade() -> None:
    _accounts()
    _password_links()
    _referrals()
    _services()
    _notifications()


def _accounts() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("away_until", WHEN, nullable=True))
        batch_op.add_column(sa.Column("notification_preferences", JSON, nullable=True))
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE users SET role = 'platform_admin' WHERE role = 'admin'")


def _password_links() -> None:
    op.create_table(
        "password_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_password_links_user_id", "password_links", ["user_id"])


def _referrals() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to_user_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("changed_by_sender_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("changed_by_receiver_at", WHEN, nullable=True))
        batch_op.create_index("ix_referrals_assigned_to_user_id", ["assigned_to_user_id"])
        batch_op.create_foreign_key(
            "fk_referrals_assigned_to_user_id_users", "users", ["assigned_to_user_id"], ["id"]
        )
    op.create_table(
        "referral_reads",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("reader_kind", sa.String(length=40), nullable=False),
        sa.Column("reader_id", sa.String(length=80), nullable=False),
        sa.Column("read_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.PrimaryKeyConstraint("referral_id", "reader_kind", "reader_id"),
    )


def _services() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("opening_hours", sa.String(length=500), server_default="", nullable=False))
        batch_op.add_column(sa.Column("search_text", sa.String(length=9000), server_default="", nullable=False))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name, description, eligibility, area_served FROM services")).all()
    for row in rows:
        areas = sorted(set(AREA_CODE.findall((row.area_served or "").upper())))
        bind.execute(
            sa.text("UPDATE services SET area_served = :areas, search_text = :text WHERE id = :id"),
            {"areas": json.dumps(areas), "text": _folded(row.name, row.description, row.eligibility), "id": row.id},
        )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.alter_column(
            "area_served",
            existing_type=sa.String(length=500),
            type_=JSON,
            existing_nullable=False,
            postgresql_using="area_served::jsonb",
        )


def _notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient_user_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("referral_reference", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=20000), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["recipient_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_held", "notifications", ["recipient_user_id", "status"])
    op.create_index("ix_notifications_log", "notifications", ["agency_id", "created_at", "id"])
    op.create_index("ix_notifications_referral_id", "notifications", ["referral_id"])
    op.create_table(
        "notification_attempts",
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_attempts_notification_id", "notification_attempts", ["notification_id"])


def downgrade() -> None:
    op.drop_table("notification_attempts")
    op.drop_table("notifications")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.alter_column(
            "area_served",
            existing_type=JSON,
            type_=sa.String(length=500),
            existing_nullable=False,
            postgresql_using="area_served::text",
        )
        batch_op.drop_column("search_text")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("contact_email")
    op.drop_table("referral_reads")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint("fk_referrals_assigned_to_user_id_users", type_="foreignkey")
        batch_op.drop_index("ix_referrals_assigned_to_user_id")
        batch_op.drop_column("changed_by_receiver_at")
        batch_op.drop_column("changed_by_sender_at")
        batch_op.drop_column("assigned_to_user_id")
    op.drop_table("password_links")
    op.execute("UPDATE users SET role = 'admin' WHERE role = 'platform_admin'")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_column("token_version")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("token_version")
        batch_op.drop_column("notification_preferences")
        batch_op.drop_column("away_until")
        batch_op.drop_column("email")
