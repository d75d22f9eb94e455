"""Each referral's outcome rollup: the set of outcome types recorded and the first outcome date

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:50:00.000000

Reports count each outcome type once per referral and time the first outcome; reading these
two columns instead of grouping the outcomes table keeps a platform-wide report over a
million referrals well under a second.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outcome types as they stood when this migration was written, in bit order.
TYPES = (
    "job_entry",
    "training_started",
    "training_completed",
    "volunteering",
    "better_off_calculation_done",
    "benefit_claim_made",
    "debt_plan_agreed",
    "childcare_arranged",
    "engaged_with_service",
    "confidence_improved",
    "did_not_attend",
    "unable_to_contact",
    "referred_onward",
    "other",
)


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_types", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("first_outcome_on", sa.Date(), nullable=True))
    bits = " ".join(f"WHEN '{name}' THEN {1 << i}" for i, name in enumerate(TYPES))
    op.execute(
        "UPDATE referrals SET "
        f"outcome_types = COALESCE((SELECT SUM(DISTINCT CASE o.type {bits} ELSE 0 END) FROM outcomes o "
        "WHERE o.referral_id = referrals.id), 0), "
        "first_outcome_on = (SELECT MIN(o.occurred_on) FROM outcomes o WHERE o.referral_id = referrals.id) "
        "WHERE outcome_count > 0"
    )


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("first_outcome_on")
        batch_op.drop_column("outcome_types")
