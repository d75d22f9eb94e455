"""Indexes for management reports and the overdue list

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDECIDED = sa.text("status IN ('submitted', 'received')")
REPORT_COLUMNS = [
    "id",
    "status",
    "purpose",
    "from_agency_id",
    "to_agency_id",
    "decided_at",
    "due_by",
    "outcome_count",
]


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_report", ["created_at"], unique=False, postgresql_include=REPORT_COLUMNS
        )
        batch_op.create_index(
            "ix_referrals_overdue",
            ["to_agency_id", "due_by", "id"],
            unique=False,
            postgresql_where=UNDECIDED,
            sqlite_where=UNDECIDED,
        )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcomes_report", ["referral_id", "type", "occurred_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_outcomes_report")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_overdue")
        batch_op.drop_index("ix_referrals_report")
