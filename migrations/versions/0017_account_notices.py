"""Notices to accounts of no agency

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 11:00:00.000000

A member of staff is told by email when someone issues a new link to set their password, and
platform admins and auditors belong to no agency, so a notification's agency may be none.

SQLite changes a column's nullability only by rebuilding the table, and with foreign keys on
(as the application runs them) it cannot drop a table that notification_attempts rows refer to,
not even within a transaction that puts the rows back. The attempts are set aside while the
table is rebuilt, and restored after.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _agency_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("notifications", "agency_id", existing_type=sa.Uuid(), nullable=nullable)
        return
    op.execute("CREATE TEMPORARY TABLE kept_attempts AS SELECT * FROM notification_attempts")
    op.execute("DELETE FROM notification_attempts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("agency_id", existing_type=sa.Uuid(), nullable=nullable)
    op.execute("INSERT INTO notification_attempts SELECT * FROM kept_attempts")
    op.execute("DROP TABLE kept_attempts")


def upgrade() -> None:
    _agency_nullable(True)


def downgrade() -> None:
    # Notices to accounts of no agency have no place in the older table.
    op.execute(
        "DELETE FROM notification_attempts WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE agency_id IS NULL)"
    )
    op.execute("DELETE FROM notifications WHERE agency_id IS NULL")
    _agency_nullable(False)
