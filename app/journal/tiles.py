"""The log's Merkle tree as stored: every complete node, in tiles of TILE_WIDTH hashes of one level,
so a proof reads O(log n) nodes and nothing is recomputed (docs/architecture.md).
"""

import json
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.journal.merkle import Frontier, Node, frontier_nodes
from app.models.audit import AuditTreeTile
from app.persistence.rows import table_of

TILE_WIDTH = 32
HASH_SIZE = 32
_TILES = table_of(AuditTreeTile)
Tiles = dict[Node, bytes]


class MissingNode(LookupError):
    """The stored tree lacks a node that a tree of its size must have."""


def tile_of(node: Node) -> Node:
    return node[0], node[1] // TILE_WIDTH


async def read_tiles(session: AsyncSession, keys: Iterable[Node]) -> Tiles:
    """The stored tiles among `keys`, in one query whose text is the same whatever the keys."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    params = (
        {"levels": [k[0] for k in wanted], "numbers": [k[1] for k in wanted]}
        if on_postgresql
        else {"keys": json.dumps(wanted)}
    )
    found = await session.execute(_BY_KEYS_PG if on_postgresql else _BY_KEYS_SQLITE, params)
    return {(level, number): hashes for level, number, hashes in found}


# The keys as arrays (or JSON on SQLite): an IN list of pairs was rendered anew for every query.
_BY_KEYS_PG = text(
    "SELECT t.level, t.number, t.hashes FROM audit_tree_tiles AS t "
    "JOIN unnest(CAST(:levels AS smallint[]), CAST(:numbers AS bigint[])) AS k(level, number) "
    "ON t.level = k.level AND t.number = k.number"
)
_BY_KEYS_SQLITE = text(
    "SELECT t.level, t.number, t.hashes FROM json_each(:keys) AS k JOIN audit_tree_tiles AS t "
    "ON t.level = json_extract(k.value, '$[0]') AND t.number = json_extract(k.value, '$[1]')"
)


def node_in(tiles: Tiles, node: Node) -> bytes:
    """One node's hash from tiles read for it."""
    start = node[1] % TILE_WIDTH * HASH_SIZE
    found = tiles.get(tile_of(node), b"")[start : start + HASH_SIZE]
    if len(found) != HASH_SIZE:
        raise MissingNode(f"the stored tree has no node at level {node[0]}, number {node[1]}")
    return found


async def read_nodes(session: AsyncSession, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The hashes of complete nodes, in one query."""
    wanted = set(nodes)
    tiles = await read_tiles(session, {tile_of(node) for node in wanted})
    return {node: node_in(tiles, node) for node in wanted}


def _partial_tiles(size: int) -> list[Node]:
    """The last tile of each level, where it is partial: new nodes are appended to it."""
    levels = range(size.bit_length())
    return [(level, (size >> level) // TILE_WIDTH) for level in levels if (size >> level) % TILE_WIDTH]


async def load(session: AsyncSession, size: int) -> tuple[Frontier, Tiles]:
    """The right edge of the stored tree of `size` leaves, and its partial tiles."""
    edge, partial = frontier_nodes(size), _partial_tiles(size)
    tiles = await read_tiles(session, [*map(tile_of, edge), *partial])
    frontier = Frontier(size, [node_in(tiles, node) for node in edge])
    return frontier, {key: tiles.get(key, b"") for key in partial}


class Growth:
    """The nodes a batch of appended leaves completes, level by level, in order."""

    def __init__(self) -> None:
        self.levels: defaultdict[int, list[bytes]] = defaultdict(list)

    def __call__(self, level: int, _number: int, node: bytes) -> None:
        self.levels[level].append(node)


def grown_tiles(size: int, partial: Tiles, growth: Growth) -> Tiles:
    """Every tile the growth touches from a tree of `size` leaves, with its whole new content."""
    width, changed = TILE_WIDTH * HASH_SIZE, {}
    for level, hashes in growth.levels.items():
        first = size >> level
        start = first // TILE_WIDTH
        data = partial.get((level, start), b"") + b"".join(hashes)
        for offset in range(0, len(data), width):
            changed[(level, start + offset // width)] = data[offset : offset + width]
    return changed


async def save(session: AsyncSession, tiles: Tiles) -> None:
    """Write (or rewrite) these tiles."""
    if tiles:
        rows = [{"level": level, "number": number, "hashes": data} for (level, number), data in tiles.items()]
        await session.execute(_upsert(session, _TILES), rows)


def _upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT, or replace the hashes of the tile already there."""
    keys = [table.c.level, table.c.number]
    if session.get_bind().dialect.name == "postgresql":
        on_pg = postgresql.insert(table)
        return on_pg.on_conflict_do_update(index_elements=keys, set_={"hashes": on_pg.excluded.hashes})
    on_sqlite = sqlite.insert(table)
    return on_sqlite.on_conflict_do_update(index_elements=keys, set_={"hashes": on_sqlite.excluded.hashes})
