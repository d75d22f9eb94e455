"""Subjects, consents, referrals with their history, outcomes and messages; idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:06:38.224280
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('principal', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('response_headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('principal', 'key', name='uq_idempotency_principal_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('subjects',
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('preferred_contact', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('needs_interpreter', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('circumstances', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('recorded_by_agency_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_agency_id'], ['agencies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subjects_recorded_by_agency_id'), ['recorded_by_agency_id'], unique=False)

    op.create_table('consents',
    sa.Column('given_by', sa.String(length=100), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lawful_basis', sa.String(length=40), nullable=False),
    sa.Column('purposes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('data_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sharing_agreement_ref', sa.String(length=200), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by_agency_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_agency_id', sa.Uuid(), nullable=True),
    sa.Column('withdrawal_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_agency_id'], ['agencies.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_recorded_by_agency_id'), ['recorded_by_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_subject_id'), ['subject_id'], unique=False)

    op.create_table('referrals',
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=4000), nullable=False),
    sa.Column('urgency', sa.String(length=40), nullable=False),
    sa.Column('handover_mode', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('from_agency_id', sa.Uuid(), nullable=False),
    sa.Column('from_actor_kind', sa.String(length=40), nullable=False),
    sa.Column('from_actor_id', sa.String(length=80), nullable=False),
    sa.Column('to_agency_id', sa.Uuid(), nullable=False),
    sa.Column('to_service_id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('due_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appointment', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('duplicate_reason', sa.String(length=500), nullable=True),
    sa.Column('outcome_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], ),
    sa.ForeignKeyConstraint(['from_agency_id'], ['agencies.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.ForeignKeyConstraint(['to_agency_id'], ['agencies.id'], ),
    sa.ForeignKeyConstraint(['to_service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index('ix_referrals_inbox', ['to_agency_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_referrals_sent', ['from_agency_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_referrals_service_status', ['to_service_id', 'status'], unique=False)
        batch_op.create_index('ix_referrals_status_due', ['status', 'due_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_updated_at'), ['updated_at'], unique=False)

    op.create_table('messages',
    sa.Column('body', sa.String(length=4000), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('from_agency_id', sa.Uuid(), nullable=False),
    sa.Column('author_kind', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_agency_id'], ['agencies.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_referral_id'), ['referral_id'], unique=False)

    op.create_table('outcomes',
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recorded_by_agency_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_agency_id'], ['agencies.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_referral_id'), ['referral_id'], unique=False)

    op.create_table('referral_status_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.String(length=40), nullable=True),
    sa.Column('to_status', sa.String(length=40), nullable=False),
    sa.Column('actor_kind', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.String(length=80), nullable=True),
    sa.Column('actor_agency_id', sa.Uuid(), nullable=True),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('appointment', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_status_changes_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_status_changes_referral_id'))

    op.drop_table('referral_status_changes')
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_referral_id'))

    op.drop_table('outcomes')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_referral_id'))

    op.drop_table('messages')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_updated_at'))
        batch_op.drop_index(batch_op.f('ix_referrals_subject_id'))
        batch_op.drop_index('ix_referrals_status_due')
        batch_op.drop_index('ix_referrals_service_status')
        batch_op.drop_index('ix_referrals_sent')
        batch_op.drop_index('ix_referrals_inbox')
        batch_op.drop_index(batch_op.f('ix_referrals_consent_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_closed_at'))

    op.drop_table('referrals')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_subject_id'))
        batch_op.drop_index(batch_op.f('ix_consents_recorded_by_agency_id'))

    op.drop_table('consents')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subjects_recorded_by_agency_id'))

    op.drop_table('subjects')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
