"""The language a notification is written in

Revision ID: 0022_notification_language
Revises: 0021_welsh_names
Create Date: 2026-12-08 03:00:00.000000

A person's notifications are written in their language and a team's in Welsh and English; the
sender picks a GOV.UK Notify template for that language where one is configured. Those queued
before are English (null would mean both).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_notification_language"
down_revision: str | None = "0021_welsh_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("language", sa.String(length=10), nullable=True))
    op.execute("UPDATE notifications SET language = 'en'")


def downgrade() -> None:
    op.drop_column("notifications", "language")
