"""Leases on the worker's periodic jobs

Revision ID: 0023_job_leases
Revises: 0022_notification_language
Create Date: 2026-12-08 03:00:00.000000

Every worker used to make every periodic pass (the daily digests, retention, follow-up
announcements): correct, since each pass locks what it takes and digests carry unique keys,
but N workers made N passes. Each job now has one row saying when its next pass is due and
which worker holds it until when; a worker makes a pass only after taking that lease. A
plain table rather than advisory locks, so that the embedded SQLite database does the same.

It follows 0022_notification_language, which was applied before it though numbered after.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_job_leases"
down_revision: str | None = "0022_notification_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
