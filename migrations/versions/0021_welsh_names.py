"""Welsh names and descriptions in the directory

Revision ID: 0021_welsh_names
Revises: 0020_worklists
Create Date: 2026-12-08 02:10:00.000000

Agencies and services are named, and services described, in Welsh as well as English: the
directory is published and shown in both languages. Plain ADD COLUMN: a batch would rebuild
the tables on SQLite, which rows elsewhere refer to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_welsh_names"
down_revision: str | None = "0020_worklists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agencies", sa.Column("name_cy", sa.String(length=200), nullable=True))
    op.add_column("services", sa.Column("name_cy", sa.String(length=200), nullable=True))
    op.add_column("services", sa.Column("description_cy", sa.String(length=4000), nullable=True))


def downgrade() -> None:
    op.drop_column("services", "description_cy")
    op.drop_column("services", "name_cy")
    op.drop_column("agencies", "name_cy")
