"""The log's proofs and checkpoints, checked by an independent RFC 9162 and C2SP reader."""

import base64
import json
import random
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.db import get_sessionmaker
from app.journal import proofs
from app.models.identity import Role
from app.services import audit
from tests.support import c2sp, rfc9162
from tests.support.factories import bearer, record_events, seal

AUDITOR = bearer(None, Role.AUDITOR)


async def exported_leaves(client: httpx.AsyncClient) -> list[bytes]:
    """Every sealed leaf, recomputed from the events as the API exports them."""
    leaves: list[bytes] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/audit/events", params=params, headers=AUDITOR)).json()
        for event in page["items"]:
            assert event["seq"] == len(leaves)
            assert base64.b64decode(event["leaf_hash"]) == rfc9162.entry_hash(event)
            leaves.append(rfc9162.entry_hash(event))
        if not (cursor := page["next_cursor"]):
            return leaves


async def latest_head(client: httpx.AsyncClient) -> c2sp.Head:
    note = await client.get("/v1/audit/checkpoint", headers=AUDITOR)
    vkey = await client.get("/v1/audit/verifier-key")
    assert note.headers["content-type"].startswith("text/plain")
    return c2sp.open_checkpoint(note.text, vkey.text)


def b64s(hashes: list[str]) -> list[bytes]:
    return [base64.b64decode(h) for h in hashes]


class Reference:
    """The leaves, and the root of each prefix of them as the reference verifier computes it."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves, self._roots = leaves, dict[int, bytes]()

    def root(self, size: int) -> bytes:
        if size not in self._roots:
            self._roots[size] = rfc9162.mth(self.leaves[:size])
        return self._roots[size]


async def check_inclusion(session: AsyncSession, reference: Reference, index: int, size: int) -> None:
    proof = await audit.inclusion_proof(session, index, size)
    leaf = base64.b64decode(proof.leaf_hash)
    assert leaf == reference.leaves[index]
    assert rfc9162.verify_inclusion(index, size, leaf, b64s(proof.hashes), reference.root(size)), (
        index,
        size,
    )


async def check_consistency(session: AsyncSession, reference: Reference, old: int, size: int) -> None:
    proof = await audit.consistency_proof(session, old, size)
    roots = reference.root(old), reference.root(size)
    assert rfc9162.verify_consistency(old, size, *roots, b64s(proof.hashes)), (old, size)


async def check_every_proof(session: AsyncSession, reference: Reference, size: int) -> None:
    """Every inclusion and consistency proof in the tree of `size` leaves, read from the stored tree."""
    root = reference.root(size)
    for n in range(size):
        leaf, path = await proofs.inclusion(session, n, size)
        assert leaf == reference.leaves[n]
        assert rfc9162.verify_inclusion(n, size, leaf, path, root), (n, size)
        path = await proofs.consistency(session, n + 1, size)
        assert rfc9162.verify_consistency(n + 1, size, reference.root(n + 1), root, path), (n + 1, size)


async def test_every_proof_in_every_tree_of_up_to_64_leaves_verifies(client: httpx.AsyncClient) -> None:
    heads = []
    for _ in range(64):
        await record_events(1)
        await seal()
        heads.append(await latest_head(client))
    reference = Reference(await exported_leaves(client))

    assert [(h.origin, h.size) for h in heads] == [(get_settings().audit_log_origin, n) for n in range(1, 65)]
    assert [h.root for h in heads] == [reference.root(n) for n in range(1, 65)]
    async with get_sessionmaker()() as session:
        for size in range(1, 65):
            await check_every_proof(session, reference, size)


async def test_proofs_at_random_sizes_up_to_10000_verify(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "audit_seal_batch_size", 1500)  # several batches and checkpoints
    for _ in range(5):
        await record_events(2000)
    await seal()
    reference = Reference(await exported_leaves(client))
    assert len(reference.leaves) == 10_000
    assert (await latest_head(client)).root == reference.root(10_000)
    chosen = random.Random(9162)
    async with get_sessionmaker()() as session:
        for size in [*chosen.sample(range(1, 10_001), 40), 10_000, 8192, 8193, 1500, 3000]:
            for index in (0, size - 1, chosen.randrange(size)):
                await check_inclusion(session, reference, index, size)
            for old in (1, size, chosen.randint(1, size)):
                await check_consistency(session, reference, old, size)


async def test_proofs_over_http_have_the_contract_shape(client: httpx.AsyncClient) -> None:
    await record_events(7)
    await seal()
    head = await latest_head(client)

    inclusion = await client.get(
        "/v1/audit/proofs/inclusion", params={"index": 5, "tree_size": 7}, headers=AUDITOR
    )
    consistency = await client.get(
        "/v1/audit/proofs/consistency", params={"from_size": 3, "to_size": 7}, headers=AUDITOR
    )

    assert inclusion.status_code == consistency.status_code == 200
    proof = inclusion.json()
    assert set(proof) == {"index", "tree_size", "leaf_hash", "hashes"}
    assert (proof["index"], proof["tree_size"]) == (5, 7)
    leaf = base64.b64decode(proof["leaf_hash"])
    assert rfc9162.verify_inclusion(5, 7, leaf, b64s(proof["hashes"]), head.root)
    assert consistency.json()["from_size"] == 3
    assert set(consistency.json()) == {"from_size", "to_size", "hashes"}


async def test_the_verifier_key_is_a_c2sp_note_verifier_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/audit/verifier-key")

    assert response.status_code == 200
    name, _key_id, public_key = c2sp.read_verifier_key(response.text)
    assert name == get_settings().audit_log_origin
    assert len(public_key) == 32


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("inclusion", {"index": 3, "tree_size": 3}, "index"),
        ("inclusion", {"index": 0, "tree_size": 4}, "tree_size"),
        ("inclusion", {"index": -1, "tree_size": 2}, "index"),
        ("consistency", {"from_size": 3, "to_size": 2}, "from_size"),
        ("consistency", {"from_size": 1, "to_size": 4}, "to_size"),
        ("consistency", {"from_size": 4, "to_size": 4}, "to_size"),
        ("inclusion", {"index": 3, "tree_size": 64}, "tree_size"),
        ("consistency", {"from_size": 0, "to_size": 2}, "from_size"),
    ],
)
async def test_proofs_beyond_the_signed_log_are_refused_naming_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, int], field: str
) -> None:
    await record_events(3)
    await seal()

    response = await client.get(f"/v1/audit/proofs/{path}", params=params, headers=AUDITOR)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_before_the_first_seal_there_is_no_checkpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/audit/checkpoint", headers=AUDITOR)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_empty_log_has_a_checkpoint_of_size_0(client: httpx.AsyncClient) -> None:
    await seal()

    head = await latest_head(client)

    assert (head.size, head.root) == (0, rfc9162.sha256(b""))
    assert json.loads((await client.get("/v1/audit/verify", headers=AUDITOR)).text)["tree_size"] == 0
