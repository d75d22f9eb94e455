"""Security hardening: a per-account password throttle

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-26 09:00:00.000000

Failed password sign-ins are counted per account name (a keyed hash of it), shared by every
process, so that guessing one account's password is bounded whatever addresses it comes from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
