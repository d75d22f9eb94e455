"""Security hardening: a per-account password throttle; webhook signing secrets encrypted; one
open referral per person, agency and service enforced by a unique index

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-26 09:00:00.000000

Failed password sign-ins are counted per account name (a keyed hash of it), shared by every
process, so that guessing one account's password is bounded whatever addresses it comes from.

Webhook signing secrets are encrypted at rest under SECRETS_KEY: run this migration with the
key the service will use. Secrets already stored are encrypted here (the column becomes text,
since a Fernet token is longer than the secret); downgrading decrypts them again.

A new open referral carries a hash of its sending agency, receiving service and person
(`open_key`), unique among open referrals, so that two creates at the same moment cannot both
pass the duplicate check. Referrals already open keep no key: the check still finds them, and
only creates racing each other need the index.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from app.encryption import decrypt, encrypt

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SUBSCRIPTIONS = sa.table("webhook_subscriptions", sa.column("id", sa.Uuid()), sa.column("secret", sa.Text()))
PLAIN_PREFIX = "whsec_"
OPEN_KEY_INDEX = "ux_referrals_open_key"
OPEN_ONLY = {f"{dialect}_where": sa.text("open_key IS NOT NULL") for dialect in ("postgresql", "sqlite")}


def upgrade() -> None:
    _create_login_throttles()
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_key", sa.String(length=64), nullable=True))
        batch_op.create_index(OPEN_KEY_INDEX, ["open_key"], unique=True, **OPEN_ONLY)
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce a length
        op.alter_column("webhook_subscriptions", "secret", type_=sa.Text(), existing_nullable=False)
    _rewrite_secrets(lambda secret: encrypt(secret) if secret.startswith(PLAIN_PREFIX) else secret)


def downgrade() -> None:
    _rewrite_secrets(lambda secret: secret if secret.startswith(PLAIN_PREFIX) else decrypt(secret))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("webhook_subscriptions", "secret", type_=sa.String(length=100), existing_nullable=False)
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(OPEN_KEY_INDEX)
        batch_op.drop_column("open_key")
    op.drop_table("login_throttles")


def _rewrite_secrets(change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.secret)).all():
        connection.execute(
            SUBSCRIPTIONS.update().where(SUBSCRIPTIONS.c.id == row.id).values(secret=change(row.secret))
        )


def _create_login_throttles() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_key"),
    )
