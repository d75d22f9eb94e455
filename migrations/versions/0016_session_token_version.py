"""Web sessions carry the account's token version at sign-in

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09 10:00:00.000000

A session whose version no longer matches its account's (a new password or role, a
deactivation) is ended at its next request, as the account's API tokens are refused.

Sessions open at the upgrade are given version 0. Versions only ever rise, so an account still
at 0 was at 0 when its sessions signed in, and they go on. An account above 0 may have had its
password reset or been deactivated after one of its sessions signed in, which is what this
revision closes; what version such a session began with is not known, so it ends, and its user
signs in once more (a session lasts 12 hours at most in any case).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("token_version")
