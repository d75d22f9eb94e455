"""The person's record on each referral

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:00:00.000000

What a referral's two parties see of the person becomes a copy made for that referral,
limited to the data categories its consent covers. Existing referrals get theirs from the
person's shared record as it stands now, filtered by each referral's consent: no party sees
more than its consent allowed, though one may see details given after its referral was sent
(there is no older copy to go back to).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# A random (version 4) UUID as SQLAlchemy's Uuid type stores it on SQLite: 32 hex digits.
SQLITE_UUID = (
    "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))"
)
BACKFILL = """
INSERT INTO referral_people (
    id, referral_id, subject_id, given_name, family_name, date_of_birth, nhs_number, postcode, phone,
    email, preferred_contact, language, needs_interpreter, circumstances, created_at, updated_at,
    corrected_at, anonymised_at
)
SELECT {new_id}, r.id, s.id, s.given_name, s.family_name, s.date_of_birth, s.nhs_number,
    CASE WHEN {contact} THEN s.postcode END, CASE WHEN {contact} THEN s.phone END,
    CASE WHEN {contact} THEN s.email END, CASE WHEN {contact} THEN s.preferred_contact END,
    s.language, s.needs_interpreter, CASE WHEN {circumstances} THEN s.circumstances END,
    r.created_at, r.created_at, NULL, s.anonymised_at
FROM referrals r
JOIN subjects s ON s.id = r.subject_id
JOIN consents c ON c.id = r.consent_id
"""


def _covers(category: str) -> str:
    # Consents hold their categories as a JSON array of codes; the quotes make the match exact.
    return f"CAST(c.data_categories AS TEXT) LIKE '%\"{category}\"%'"


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite supports: a batch would rebuild the table and lose its
    # expression index (ix_subjects_identity), which SQLAlchemy cannot reflect.
    op.add_column("subjects", sa.Column("nhs_number", sa.String(length=10), nullable=True))
    op.add_column(
        "referral_status_changes",
        sa.Column("kind", sa.String(length=40), server_default="status_changed", nullable=False),
    )
    _person_records()
    postgres = op.get_bind().dialect.name == "postgresql"
    new_id = "gen_random_uuid()" if postgres else SQLITE_UUID
    op.execute(
        BACKFILL.format(new_id=new_id, contact=_covers("contact"), circumstances=_covers("circumstances"))
    )


def _person_records() -> None:
    op.create_table(
        "referral_people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("preferred_contact", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("needs_interpreter", sa.Boolean(), nullable=False),
        sa.Column("circumstances", JSON, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("corrected_at", WHEN, nullable=True),
        sa.Column("anonymised_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id"),
    )
    op.create_index("ix_referral_people_subject_id", "referral_people", ["subject_id"])


def downgrade() -> None:
    op.drop_index("ix_referral_people_subject_id", table_name="referral_people")
    op.drop_table("referral_people")
    op.drop_column("referral_status_changes", "kind")
    op.drop_column("subjects", "nhs_number")
