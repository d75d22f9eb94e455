"""New rows written with plain INSERT statements instead of through the ORM unit of work, which
cost three times as much CPU for rows only ever appended (docs/architecture.md)."""

import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import groupby
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    String,
    Table,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

Run = tuple[Table, list[dict[str, Any]]]


def table_of(model: type[SQLModel]) -> Table:
    """The table a `table=True` model maps to."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def _without_unset_key(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The values without a primary key left unset, which the database fills (a sequence)."""
    keys = table.primary_key.columns
    return {key: value for key, value in values.items() if value is not None or key not in keys}


@dataclass(frozen=True, slots=True)
class NewRow:
    """A row to insert: its table and its column values."""

    table: Table
    values: dict[str, Any]


def new_row(model: type[SQLModel], **given: Any) -> NewRow:
    """A new row of `model`: the values given and the model's defaults for the rest, as its
    constructor would set them, without building an ORM-instrumented instance."""
    table, (fixed, made, required) = table_of(model), _defaults(model)
    unknown, missing = given.keys() - table.columns.keys(), required - given.keys()
    if unknown or missing:
        raise TypeError(f"{model.__name__}: unknown {sorted(unknown)}, missing {sorted(missing)}")
    values = fixed | {key: make() for key, make in made.items() if key not in given}
    return NewRow(table, _without_unset_key(table, values | given))


@lru_cache(maxsize=64)
def _defaults(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]], frozenset[str]]:
    """Per column: a fixed default, a factory called on each use, or none (required); taken once,
    since pydantic's `get_default` inspects a factory's signature on every call."""
    fixed: dict[str, Any] = {}
    made: dict[str, Callable[[], Any]] = {}
    required: set[str] = set()
    for key in (c.key for c in table_of(model).columns):
        field = model.model_fields[key]
        if field.default_factory is not None:
            if field.default_factory_takes_validated_data:
                raise TypeError(f"{model.__name__}.{key}: a default that reads other fields is not supported")
            made[key] = typing.cast(Callable[[], Any], field.default_factory)
        elif field.default is PydanticUndefined:
            required.add(key)
        else:
            fixed[key] = field.default
    return fixed, made, frozenset(required)


async def insert_rows(session: AsyncSession, *rows: NewRow) -> None:
    """Insert the rows in order: parents before the rows that refer to them."""
    runs = [(table, [row.values for row in run]) for table, run in groupby(rows, key=lambda row: row.table)]
    if len(runs) > 1 and session.get_bind().dialect.name == "postgresql":
        await _insert_at_once(session, runs)
        return
    for table, values in runs:
        await session.execute(insert(table), values)


async def _insert_at_once(session: AsyncSession, runs: list[Run]) -> None:
    shape = tuple((table, tuple(values[0])) for table, values in runs)
    params = {f"rows_{n}": json.dumps(values, default=json_value) for n, (_, values) in enumerate(runs)}
    await session.execute(_statement(shape), params)


def json_value(value: object) -> str:
    """The JSON text PostgreSQL reads back as the same value (timestamps keep microseconds and offset)."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


@lru_cache(maxsize=64)
def _statement(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> Insert:
    *first, last = [insert_from_json(table, columns, f"rows_{n}") for n, (table, columns) in enumerate(shape)]
    return last.add_cte(*(statement.cte(f"insert_{n}") for n, statement in enumerate(first)))


def insert_from_json(
    table: Table,
    columns: tuple[str, ...],
    param: str,
    *,
    where: tuple[ColumnElement[bool], ...] = (),
    order_key: str | None = None,
) -> Insert:
    """INSERT INTO table (columns) SELECT columns FROM jsonb_to_recordset(:param) AS r(typed columns).

    `order_key` names a number each JSON row carries (and the table does not) to insert them
    in that order, for a table whose sequence numbers must follow it.
    """
    typed = [column(name, table.columns[name].type) for name in columns]
    if order_key is not None:
        typed.append(column(order_key, Integer))
    source = (
        func.jsonb_to_recordset(cast(bindparam(param, type_=String), JSONB))
        .table_valued(*typed)
        .render_derived(name="r", with_types=True)
    )
    chosen = select(*(source.c[name] for name in columns)).where(*where)
    if order_key is not None:
        chosen = chosen.order_by(source.c[order_key])
    return insert(table).from_select(list(columns), chosen, include_defaults=False)
