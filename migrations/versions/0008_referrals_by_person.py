"""Referrals indexed by person, receiving service and sending agency

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 18:40:00.000000

The duplicate check on every new referral looks for the person's open referrals from the
sending agency to the receiving service. Starting from the service, it read every referral
that service had received; starting from the person, it reads a handful. This index serves
that lookup, and every lookup by person the single-column index served.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_person", ["subject_id", "to_service_id", "from_agency_id"])
        batch_op.drop_index("ix_referrals_subject_id")


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_subject_id", ["subject_id"])
        batch_op.drop_index("ix_referrals_person")
