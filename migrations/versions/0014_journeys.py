"""Journeys, follow-ups, signposts and distance travelled

Revision ID: 0014
Revises: 0009
Create Date: 2026-11-26 02:20:00.000000

Every referral already made starts a journey of its own.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
CODE = sa.String(length=40)
# What the outcome figures and outcomes per journey read, covered on PostgreSQL.
OUTCOME_COLUMNS = [
    "created_at",
    "outcome_types",
    "first_outcome_on",
    "purpose",
    "from_agency_id",
    "to_agency_id",
]
HAS_OUTCOME = sa.text("outcome_count > 0")


def upgrade() -> None:
    _referrals()
    _follow_ups()
    _signposts()
    _measures()


def _referrals() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journey_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("parent_referral_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("return_to_referrer", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _new_journeys()
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.alter_column("journey_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index("ix_referrals_journey_id", ["journey_id"])
        onward = sa.text("parent_referral_id IS NOT NULL")
        batch_op.create_index(
            "ix_referrals_onward", ["parent_referral_id"], postgresql_where=onward, sqlite_where=onward
        )
        batch_op.create_index(
            "ix_referrals_outcomes",
            ["journey_id"],
            postgresql_include=OUTCOME_COLUMNS,
            postgresql_where=HAS_OUTCOME,
            sqlite_where=HAS_OUTCOME,
        )
        batch_op.create_foreign_key(
            "fk_referrals_parent_referral_id", "referrals", ["parent_referral_id"], ["id"]
        )


def _new_journeys() -> None:
    """A random journey id for each existing referral (not its own id, which it would reveal)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE referrals SET journey_id = gen_random_uuid()")
        return
    referrals = sa.table("referrals", sa.column("id", sa.Uuid()), sa.column("journey_id", sa.Uuid()))
    bind = op.get_bind()
    for (referral_id,) in bind.execute(sa.select(referrals.c.id)).all():
        bind.execute(referrals.update().where(referrals.c.id == referral_id).values(journey_id=uuid.uuid4()))


def _follow_ups() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("journey_id", sa.Uuid(), nullable=False),
        sa.Column("source_outcome_id", sa.Uuid(), nullable=True),
        sa.Column("result", CODE, nullable=True),
        sa.Column("outcome_id", sa.Uuid(), nullable=True),
        sa.Column("found", CODE, nullable=True),
        sa.Column("snooze_note", sa.String(length=2000), nullable=True),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("done_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["source_outcome_id"], ["outcomes.id"]),
        sa.ForeignKeyConstraint(["outcome_id"], ["outcomes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_follow_ups_referral_id", "follow_ups", ["referral_id"])
    op.create_index("ix_follow_ups_agency", "follow_ups", ["agency_id", "due_on", "id"])
    is_open = sa.text("done_at IS NULL")
    op.create_index(
        "ix_follow_ups_open",
        "follow_ups",
        ["agency_id", "due_on", "id"],
        postgresql_where=is_open,
        sqlite_where=is_open,
    )
    unannounced = sa.text("announced_on IS NULL AND done_at IS NULL")
    op.create_index(
        "ix_follow_ups_unannounced",
        "follow_ups",
        ["due_on"],
        postgresql_where=unannounced,
        sqlite_where=unannounced,
    )


def _signposts() -> None:
    op.create_table(
        "signposts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("purpose", CODE, nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signposts_agency", "signposts", ["agency_id", "occurred_on", "id"])


def _measures() -> None:
    op.create_table(
        "measures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("scale", CODE, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_agency_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.ForeignKeyConstraint(["recorded_by_agency_id"], ["agencies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_measures_referral", "measures", ["referral_id", "taken_on"])
    op.create_index("ix_measures_subject", "measures", ["subject_id", "scale", "taken_on"])


def downgrade() -> None:
    op.drop_table("measures")
    op.drop_table("signposts")
    op.drop_table("follow_ups")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint("fk_referrals_parent_referral_id", type_="foreignkey")
        batch_op.drop_index("ix_referrals_outcomes")
        batch_op.drop_index("ix_referrals_onward")
        batch_op.drop_index("ix_referrals_journey_id")
        batch_op.drop_column("return_to_referrer")
        batch_op.drop_column("parent_referral_id")
        batch_op.drop_column("journey_id")
