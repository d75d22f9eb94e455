"""The audit log becomes an RFC 9162 transparency log; the event feed is positioned by the sequencer

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-24 09:00:00.000000

The hash chain is verified once, here: a broken chain stops the migration, naming the first bad
event, since sealing it into the new log would vouch for it. Its events are kept, in chain order,
as the first events the sequencer seals (its first run gives them leaf indexes 0, 1, ... in that
order). After them comes one event that records the migration and the chain's head hash, so
anyone who kept that hash finds it in the new log.

Audit events get an `id` in the order they were written and lose `prev_hash` and `hash`; `seq`
becomes the leaf index, null until sealed. Domain events get a feed `position`, the old sequence
number for those already published. On PostgreSQL sealed events refuse every change but their
one-time sealing, and checkpoints refuse every change.

Downgrading chains every event again, sealed ones first in leaf order.
"""

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import rfc8785
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
BATCH = 10_000
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WIDE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEXED = ("at", "actor_id", "actor_agency_id", "action", "referral_id", "subject_id")


def _event_columns() -> list[sa.Column[Any]]:
    """The columns an audit event has in both forms of the table."""
    return [
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.String(length=80), nullable=True),
        sa.Column("actor_agency_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("details", JSON_TYPE, nullable=False),
    ]


EVENT_COLUMNS = [column.name for column in _event_columns()]


def _reading(name: str, *extra: sa.ColumnClause[Any]) -> sa.TableClause:
    """A lightweight view of an audit table, typed so values come back as the application reads them."""
    types = {
        "at": UTCDateTime(),
        "actor_agency_id": sa.Uuid(),
        "referral_id": sa.Uuid(),
        "subject_id": sa.Uuid(),
    }
    columns = [
        sa.column(n, types.get(n, JSON_TYPE if n == "details" else sa.String())) for n in EVENT_COLUMNS
    ]
    return sa.table(name, *columns, *extra)


OLD_EVENTS = _reading(
    "audit_events",
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
NEW_EVENTS = _reading("audit_events", sa.column("id", sa.BigInteger()), sa.column("seq", sa.BigInteger()))
CHAIN_HEAD = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.String()),
)


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def chain_hash(event: Any, seq: int, prev_hash: str) -> str:
    """The hash chain's hash of one event: SHA-256 of its RFC 8785 JSON with `seq` and `prev_hash`."""
    document = {
        "seq": seq,
        "at": event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": {
            "kind": str(event.actor_kind),
            "id": event.actor_id,
            "agency_id": _text(event.actor_agency_id),
        },
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "referral_id": _text(event.referral_id),
        "subject_id": _text(event.subject_id),
        "details": event.details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(bytes(rfc8785.dumps(document))).hexdigest()


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _in_batches(statement: sa.Select[Any], key: sa.ColumnElement[Any], start: Any) -> Iterator[Any]:
    """Every row of `statement` in `key` order, read a batch at a time."""
    after = start
    while True:
        rows = op.get_bind().execute(statement.where(key > after).order_by(key).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = getattr(rows[-1], key.name)


class BrokenChain(RuntimeError):
    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(
            f"the audit hash chain is broken at seq {seq} ({problem}); it is not migrated. Find out what "
            "changed it (`referral-exchange audit verify` of the previous release names the event) and "
            "restore the trail from a backup before migrating."
        )


def verified_chain_head() -> tuple[int, str]:
    """Walk the whole chain as `audit verify` did; its head, or BrokenChain at the first fault."""
    seq, prev_hash = 0, GENESIS_HASH
    for event in _in_batches(sa.select(OLD_EVENTS), OLD_EVENTS.c.seq, 0):
        if event.seq != seq + 1:
            raise BrokenChain(seq + 1, "missing")
        if chain_hash(event, event.seq, event.prev_hash) != event.hash:
            raise BrokenChain(event.seq, "changed")
        if event.prev_hash != prev_hash:
            raise BrokenChain(event.seq, "not linked to the event before it")
        seq, prev_hash = event.seq, event.hash
    head = (
        op.get_bind()
        .execute(sa.select(CHAIN_HEAD.c.seq, CHAIN_HEAD.c.hash).where(CHAIN_HEAD.c.id == 1))
        .first()
    )
    if head is None or (head.seq, head.hash) != (seq, prev_hash):
        raise BrokenChain(seq if head is None or head.seq <= seq else seq + 1, "the head names another event")
    return seq, prev_hash


def _drop_chain_guard() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")


def _create_log_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", WIDE_KEY, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        *_event_columns(),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"{name}_pkey"),
    )


def _index_log_table() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(f"ix_audit_events_{column}", [column], unique=False)
        batch_op.create_index("ix_audit_events_seq", ["seq"], unique=True)
    unsealed = sa.text("seq IS NULL")
    op.create_index(
        "ix_audit_events_unsealed", "audit_events", ["id"], postgresql_where=unsealed, sqlite_where=unsealed
    )


def _record_migration(head: tuple[int, str]) -> None:
    """The event that closes the migrated chain: its length and head hash, to be sealed after it."""
    events = _reading("audit_events_log", sa.column("id", sa.BigInteger()))
    details = {"chain_events": head[0], "chain_head_hash": head[1]}
    op.get_bind().execute(
        events.insert().values(
            id=head[0] + 1,
            at=datetime.now(UTC),
            actor_kind="system",
            actor_id="migration",
            actor_agency_id=None,
            action="audit.chain_migrated",
            entity_type="audit_trail",
            entity_id=None,
            referral_id=None,
            subject_id=None,
            details=details,
        )
    )


def _move_events_to_log(head: tuple[int, str]) -> None:
    _create_log_table("audit_events_log")
    columns = ", ".join(EVENT_COLUMNS)
    op.execute(
        f"INSERT INTO audit_events_log (id, {columns}) SELECT seq, {columns} FROM audit_events ORDER BY seq"
    )
    _record_migration(head)
    op.drop_table("audit_events")
    op.drop_table("audit_chain_head")
    op.rename_table("audit_events_log", "audit_events")
    if _is_postgresql():
        op.execute("ALTER TABLE audit_events RENAME CONSTRAINT audit_events_log_pkey TO audit_events_pkey")
        op.execute("ALTER SEQUENCE audit_events_log_id_seq RENAME TO audit_events_id_seq")
        op.execute("SELECT setval('audit_events_id_seq', (SELECT max(id) FROM audit_events))")
    _index_log_table()


def _create_tree_tables() -> None:
    op.create_table(
        "audit_tree_tiles",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "number"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )


def _position_domain_events() -> None:
    op.add_column("domain_events", sa.Column("position", sa.BigInteger(), nullable=True))
    op.execute("UPDATE domain_events SET position = seq")
    op.create_index("ix_domain_events_position", "domain_events", ["position"], unique=True)
    waiting = sa.text("position IS NULL")
    op.create_index(
        "ix_domain_events_unsequenced",
        "domain_events",
        ["seq"],
        postgresql_where=waiting,
        sqlite_where=waiting,
    )


REFUSE_EVENT_CHANGE = """
CREATE FUNCTION audit_events_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
        USING HINT = 'Audit events are inserted, then sealed once by the sequencer.';
END;
$$
"""


def _guard_events() -> None:
    """Refuse every change but sealing: an unsealed row gaining its `seq` and `leaf_hash`, once.

    The triggers name columns, so sealing (which sets no other column) runs no trigger function
    at all: a row-by-row comparison cost more than the update itself. A column added to
    audit_events must be added to the first trigger's list.
    """
    op.execute(REFUSE_EVENT_CHANGE)
    op.execute(
        f"CREATE TRIGGER audit_events_append_only BEFORE UPDATE OF id, {', '.join(EVENT_COLUMNS)} OR DELETE "
        "ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_sealed_once BEFORE UPDATE OF seq, leaf_hash ON audit_events FOR EACH ROW "
        "WHEN (OLD.seq IS NOT NULL OR OLD.leaf_hash IS NOT NULL OR NEW.seq IS NULL OR NEW.leaf_hash IS NULL) "
        "EXECUTE FUNCTION audit_events_refuse()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()"
    )


def _unguard_events() -> None:
    for trigger in ("audit_events_no_truncate", "audit_events_sealed_once", "audit_events_append_only"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_refuse()")


GUARD_CHECKPOINTS = """
CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only: % is refused', TG_OP
        USING HINT = 'Signed checkpoints are kept as they were signed.';
END;
$$
"""


def _guard(table: str, function: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def _unguard(table: str, function: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {function}()")


def upgrade() -> None:
    head = verified_chain_head()
    if _is_postgresql():
        _drop_chain_guard()
    _move_events_to_log(head)
    _create_tree_tables()
    _position_domain_events()
    if _is_postgresql():
        _guard_events()
        op.execute(GUARD_CHECKPOINTS)
        _guard("audit_checkpoints", "audit_checkpoints_refuse_change")


# Downgrade


def _create_chain_tables() -> None:
    op.create_table(
        "audit_events_chain",
        sa.Column("seq", WIDE_KEY, autoincrement=False, nullable=False),
        *_event_columns(),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="audit_events_chain_pkey"),
        sa.UniqueConstraint("hash", name="audit_events_chain_hash_key"),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _log_order() -> Iterator[Any]:
    """Every event: the sealed in leaf order, then the rest in the order they were written."""
    sealed = sa.select(NEW_EVENTS).where(NEW_EVENTS.c.seq.is_not(None))
    yield from _in_batches(sealed, NEW_EVENTS.c.seq, -1)
    yield from _in_batches(sa.select(NEW_EVENTS).where(NEW_EVENTS.c.seq.is_(None)), NEW_EVENTS.c.id, 0)


def _chain_events() -> tuple[int, str]:
    """Copy every event into the chained table, hashing each after the one before; the head."""
    chained = _reading("audit_events_chain", *(sa.column(n) for n in ("seq", "prev_hash", "hash")))
    seq, prev_hash, batch = 0, GENESIS_HASH, []
    for event in _log_order():
        seq += 1
        row = {name: getattr(event, name) for name in EVENT_COLUMNS} | {"seq": seq, "prev_hash": prev_hash}
        prev_hash = row["hash"] = chain_hash(event, seq, prev_hash)
        batch.append(row)
        if len(batch) == BATCH:
            op.get_bind().execute(chained.insert(), batch)
            batch = []
    if batch:
        op.get_bind().execute(chained.insert(), batch)
    return seq, prev_hash


def downgrade() -> None:
    if _is_postgresql():
        _unguard("audit_checkpoints", "audit_checkpoints_refuse_change")
        _unguard_events()
    op.drop_index("ix_domain_events_unsequenced", table_name="domain_events")
    op.drop_index("ix_domain_events_position", table_name="domain_events")
    with op.batch_alter_table("domain_events", schema=None) as batch_op:
        batch_op.drop_column("position")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree_tiles")
    _create_chain_tables()
    seq, head_hash = _chain_events()
    op.get_bind().execute(CHAIN_HEAD.insert().values(id=1, seq=seq, hash=head_hash))
    op.drop_table("audit_events")
    op.rename_table("audit_events_chain", "audit_events")
    if _is_postgresql():
        op.execute("ALTER TABLE audit_events RENAME CONSTRAINT audit_events_chain_pkey TO audit_events_pkey")
        op.execute(
            "ALTER TABLE audit_events RENAME CONSTRAINT audit_events_chain_hash_key TO audit_events_hash_key"
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(f"ix_audit_events_{column}", [column], unique=False)
    if _is_postgresql():
        _restore_chain_guard()


def _restore_chain_guard() -> None:
    """The guard revision 0003 made, as it made it."""
    op.execute(
        """
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
        USING HINT = 'Audit events can only be inserted.';
END;
$$
"""
    )
    _guard("audit_events", "audit_events_refuse_change")
