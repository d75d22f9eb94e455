"""Index the inbox and sent lists for sorting by due date and urgency, and for searching by name

Revision ID: 0020_worklists
Revises: 0019
Create Date: 2026-12-10 09:00:00.000000

Staff sort their lists by received date (already indexed), due date or urgency, and each order
pages by keyset, so each needs an index led by the agency. Each list page also shows how many
referrals every view holds (by status, and overdue by due date): an index led by the agency
with the status and due date answers those counts without reading the table.

A search by name matches the start of the given or family name on each referral's own record of
the person, lower-cased. On PostgreSQL those indexes use text_pattern_ops, so `LIKE 'abc%'` can
use them whatever the database's collation; SQLite has no operator classes, and its plain
indexes serve the same query.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_worklists"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRAL_INDEXES = {
    "ix_referrals_inbox_status": ["to_agency_id", "status", "due_by"],
    "ix_referrals_sent_status": ["from_agency_id", "status", "due_by"],
    "ix_referrals_inbox_due": ["to_agency_id", "due_by", "id"],
    "ix_referrals_sent_due": ["from_agency_id", "due_by", "id"],
    "ix_referrals_inbox_urgency": ["to_agency_id", "urgency", "created_at", "id"],
    "ix_referrals_sent_urgency": ["from_agency_id", "urgency", "created_at", "id"],
}
NAME_INDEXES = {
    "ix_referral_people_given_name": "given_name",
    "ix_referral_people_family_name": "family_name",
}


def upgrade() -> None:
    for name, columns in REFERRAL_INDEXES.items():
        op.create_index(name, "referrals", columns)
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, column in NAME_INDEXES.items():
        expression = f"lower({column}) text_pattern_ops" if postgres else f"lower({column})"
        op.create_index(name, "referral_people", [sa.text(expression)])


def downgrade() -> None:
    for name in NAME_INDEXES:
        op.drop_index(name, table_name="referral_people")
    for name in REFERRAL_INDEXES:
        op.drop_index(name, table_name="referrals")
