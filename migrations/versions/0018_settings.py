"""Each member of staff's language, and new accounts' set-password links sent by email

Revision ID: 0018_settings
Revises: 0017
Create Date: 2026-12-10 10:00:00.000000

Staff choose English or Cymraeg in their settings; everyone is English until they do.

A new member of staff with an email address is sent their set-password link. The link is a
credential, so the notification keeps it encrypted, apart from its body, until it is sent.

Plain ADD and DROP COLUMN (SQLite has had DROP COLUMN since 3.35): rebuilding either table
would mean setting aside the rows that refer to it, as 0017 had to.
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
    op.add_column("notifications", sa.Column("sealed_link", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "sealed_link")
    op.drop_column("users", "language")
