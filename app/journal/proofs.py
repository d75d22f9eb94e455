"""RFC 9162 inclusion and consistency proofs, and tree roots, read from the stored tiles.

A proof needs O(log n) stored nodes, fetched in one query; nothing is recomputed over the leaves.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.journal import merkle, tiles
from app.journal.merkle import Node, Range


async def _range_roots(
    session: AsyncSession, ranges: list[Range], *extra: Node
) -> tuple[list[bytes], dict[Node, bytes]]:
    """The root of each leaf range, and the nodes read for them (with `extra` nodes)."""
    plans = [merkle.perfect_nodes(start, end) for start, end in ranges]
    nodes = await tiles.read_nodes(session, {node for plan in plans for node in plan} | set(extra))
    return [merkle.fold(nodes[node] for node in plan) for plan in plans], nodes


async def inclusion(session: AsyncSession, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash at `index` and its audit path in the tree of `size` leaves."""
    hashes, nodes = await _range_roots(session, merkle.inclusion_ranges(index, size), (0, index))
    return nodes[(0, index)], hashes


async def consistency(session: AsyncSession, old_size: int, size: int) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the tree of `size` leaves."""
    hashes, _ = await _range_roots(session, merkle.consistency_ranges(old_size, size))
    return hashes


async def root(session: AsyncSession, size: int) -> bytes:
    """The root of the stored tree of `size` leaves."""
    if not size:
        return merkle.EMPTY_ROOT
    (found,), _ = await _range_roots(session, [(0, size)])
    return found
