"""Agencies' ODS codes, for the FHIR interface

Revision ID: 0024_fhir
Revises: 0023_job_leases
Create Date: 2026-12-08 03:00:00.000000

An agency that is an NHS organisation (a health-visiting team, say) has an ODS code, which NHS
systems know it by: the FHIR Organization carries it as an identifier. Plain ADD COLUMN: a batch
would rebuild the table on SQLite, which rows elsewhere refer to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_fhir"
down_revision: str | None = "0023_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agencies", sa.Column("ods_code", sa.String(length=10), nullable=True))


def downgrade() -> None:
    op.drop_column("agencies", "ods_code")
