"""Services' locations, ids in other directories, postcode centroids and the directories re-imported

Revision ID: 0025_directory_locations
Revises: 0024_fhir
Create Date: 2026-12-09 09:00:00.000000

The directory is published as Open Referral UK and filled from other directories. Agencies and
services gain `external_id`, the id of the same entry in the directory it came from (unique:
an import finds the entry by it; NULLs do not collide on either database). Services gain
locations, which a proximity search measures to from a postcode's centroid. Plain ADD COLUMN
and CREATE TABLE: a batch would rebuild agencies and services on SQLite, which rows elsewhere
refer to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025_directory_locations"
down_revision: str | None = "0024_fhir"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    for table in ("agencies", "services"):
        op.add_column(table, sa.Column("external_id", sa.String(length=200), nullable=True))
        op.create_index(f"ux_{table}_external_id", table, ["external_id"], unique=True)
    op.create_table(
        "service_locations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "service_id", sa.Uuid(), sa.ForeignKey("services.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address_1", sa.String(length=200), nullable=False),
        sa.Column("address_2", sa.String(length=200), nullable=False),
        sa.Column("town", sa.String(length=120), nullable=False),
        sa.Column("postcode", sa.String(length=12), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_service_locations_service_id", "service_locations", ["service_id"])
    op.create_index("ix_service_locations_postcode", "service_locations", ["postcode"])
    op.create_table(
        "postcode_centroids",
        sa.Column("postcode", sa.String(length=12), primary_key=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
    )
    op.create_table(
        "directory_sources",
        sa.Column("source", sa.String(length=2000), primary_key=True),
        sa.Column("attempted_on", sa.Date(), nullable=True),
        sa.Column("succeeded_at", WHEN, nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("summary", JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("directory_sources")
    op.drop_table("postcode_centroids")
    op.drop_index("ix_service_locations_postcode", table_name="service_locations")
    op.drop_index("ix_service_locations_service_id", table_name="service_locations")
    op.drop_table("service_locations")
    for table in ("services", "agencies"):
        op.drop_index(f"ux_{table}_external_id", table_name=table)
        op.drop_column(table, "external_id")
