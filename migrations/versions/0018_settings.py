"""Each member of staff's language

Revision ID: 0018_settings
Revises: 0017
Create Date: 2026-12-10 10:00:00.000000

Staff choose English or Cymraeg in their settings; everyone is English until they do.

Plain ADD and DROP COLUMN (SQLite has had DROP COLUMN since 3.35): rebuilding the table would
mean setting aside the rows that refer to it, as 0017 had to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_settings"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(length=40), server_default="en", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "language")
