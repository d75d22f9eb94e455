"""Forms sent after their session ran out are kept for signing in again

Revision ID: 0019
Revises: 0018_settings
Create Date: 2026-12-10 09:00:00.000000

Without JavaScript nothing warns a member of staff that their session is about to end, and a form
they send after it has ended used to lose what they typed. Its fields (encrypted) are now kept for
a short time against a random id the browser holds, for the same user's next sign-in, which goes
back to the page with the form filled in again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_forms",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("page_path", sa.String(length=500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_kept_forms_user_id", "kept_forms", ["user_id"])
    op.create_index("ix_kept_forms_expires_at", "kept_forms", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_kept_forms_expires_at", table_name="kept_forms")
    op.drop_index("ix_kept_forms_user_id", table_name="kept_forms")
    op.drop_table("kept_forms")
