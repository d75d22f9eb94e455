"""Index people by date of birth and lower-cased names, for the duplicate-referral check

Without it, every new referral scanned the whole subjects table (some 60 ms at a million
people on PostgreSQL, growing with the table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_subjects_identity",
        "subjects",
        ["date_of_birth", sa.text("lower(family_name)"), sa.text("lower(given_name)")],
    )


def downgrade() -> None:
    op.drop_index("ix_subjects_identity", table_name="subjects")
