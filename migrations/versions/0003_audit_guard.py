"""Refuse UPDATE, DELETE and TRUNCATE on the audit trail (PostgreSQL)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:10:00.000000

The hash chain makes tampering detectable; these triggers make it hard in the first place, so
that changing history takes a deliberate `ALTER TABLE ... DISABLE TRIGGER` by the table owner
rather than a stray statement. SQLite has no equivalent worth having, so it is left alone there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_CHANGE = """
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
        USING HINT = 'Audit events can only be inserted.';
END;
$$
"""


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if not _is_postgresql():
        return
    op.execute(REFUSE_CHANGE)
    op.execute(
        'CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events '
        'FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()'
    )
    op.execute(
        'CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()'
    )


def downgrade() -> None:
    if not _is_postgresql():
        return
    op.execute('DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events')
    op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
    op.execute('DROP FUNCTION IF EXISTS audit_events_refuse_change()')
