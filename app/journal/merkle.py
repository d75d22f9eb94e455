"""RFC 9162 Merkle tree hashing: leaves, interior nodes, roots and the ranges a proof is made of.

Pure functions over leaf indexes; where the hashes come from is the caller's business.
"""

import hashlib
from collections.abc import Callable, Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()
# A perfect subtree: (level, number) covers leaves [number * 2**level, (number + 1) * 2**level).
Node = tuple[int, int]
Range = tuple[int, int]
NodeSink = Callable[[int, int, bytes], None]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than `size` (which is at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def fold(hashes: Iterable[bytes]) -> bytes:
    """The root over perfect subtrees given largest (leftmost) first."""
    ordered = list(hashes)
    if not ordered:
        return EMPTY_ROOT
    root = ordered[-1]
    for left in reversed(ordered[:-1]):
        root = node_hash(left, root)
    return root


class Frontier:
    """The right edge of a growing tree: the root of each perfect subtree its size decomposes into."""

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes, sink: NodeSink | None = None) -> None:
        """Add one leaf hash; `sink` hears of every node (leaf included) this completes."""
        number, level, node, size = self.size, 0, leaf, self.size
        if sink:
            sink(0, number, node)
        while size & 1:
            node, size, number, level = node_hash(self.hashes.pop(), node), size >> 1, number >> 1, level + 1
            if sink:
                sink(level, number, node)
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        return fold(self.hashes)


def frontier_nodes(size: int) -> list[Node]:
    """The perfect subtrees a tree of `size` leaves decomposes into, largest first."""
    return perfect_nodes(0, size)


def perfect_nodes(start: int, end: int) -> list[Node]:
    """[start, end) as perfect subtrees, largest first; `start` is aligned as RFC 9162's splits leave it."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 PATH(index, D[0:size]) as the leaf ranges whose roots make up the proof."""
    ranges, start, end = [], 0, size
    while end - start > 1:
        k = split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(old_size: int, size: int) -> list[Range]:
    """RFC 9162 PROOF(old_size, D[0:size]) as leaf ranges, for 0 < old_size <= size."""
    ranges, start, end, whole = [], 0, size, True
    while old_size - start != end - start:
        k = split(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]
