"""An RFC 9162 verifier written from the RFC's text (sections 2.1.1, 2.1.3.2 and 2.1.4.2).

Deliberately shares nothing with app/journal, so the log's proofs are checked by someone else's
reading of the specification.
"""

import hashlib
from typing import Any

import rfc8785


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def entry_hash(event: dict[str, Any]) -> bytes:
    """A leaf: SHA-256(0x00 || RFC 8785 JSON of the event as exported, without seq and leaf_hash)."""
    entry = {k: v for k, v in event.items() if k not in {"seq", "leaf_hash"}}
    return sha256(b"\x00" + bytes(rfc8785.dumps(entry)))


def mth(leaf_hashes: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes: k is the largest power of two smaller than n."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(leaf_hashes[:k]) + mth(leaf_hashes[k:]))


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, with equal sizes proved by an empty path and equal roots."""
    if first == second:
        return not path and first_hash == second_hash
    if not path or first > second:
        return False
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = sha256(b"\x01" + c + fr), sha256(b"\x01" + c + sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0
