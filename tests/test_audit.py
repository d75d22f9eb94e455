"""The audit API: who may read the trail, what it shows, and proof that it is intact."""

import asyncio
import base64
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from jose import jwt
from sqlalchemy import select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.audit import ActorKind, AuditActor, AuditCheckpoint, AuditEvent, AuditEventPublic
from app.models.directory import AgencyKind
from app.models.identity import Role, Scope
from app.pagination import encode_cursor
from tests.support import rfc9162
from tests.support.factories import (
    bearer,
    make_agency,
    make_client,
    make_user,
    password_token,
    record_events,
    seal,
)
from tests.support.tampering import tamper

WIRE_FIELDS = {
    "seq",
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "referral_id",
    "subject_id",
    "details",
    "leaf_hash",
}


@pytest.fixture
def auditor() -> dict[str, str]:
    return bearer(None, Role.AUDITOR)


def subject_of(headers: dict[str, str]) -> str:
    return str(jwt.get_unverified_claims(headers["Authorization"].split()[1])["sub"])


async def all_events() -> list[AuditEvent]:
    """Every event, sealed or not, in the order it was written."""
    async with get_sessionmaker()() as session:
        return list((await session.execute(select(AuditEvent).order_by(col(AuditEvent.id)))).scalars())


async def search(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """One page of a search, once the sequencer has sealed what is committed."""
    await seal()
    response = await client.get("/v1/audit/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def seqs_found(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    return [item["seq"] for item in await search(client, headers, **params)]


# Verifying


async def test_an_untouched_log_verifies_and_the_check_is_recorded(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await make_agency()
    await record_events(3)
    await seal()
    await record_events(1)

    response = await client.get("/v1/audit/verify", headers=auditor)

    assert response.status_code == 200, response.text
    async with get_sessionmaker()() as session:
        root = (await session.execute(select(col(AuditCheckpoint.root_hash)))).scalar_one()
    assert response.json() == {
        "valid": True,
        "events_checked": 4,
        "tree_size": 4,
        "root_hash": base64.b64encode(root).decode(),
        "first_invalid_seq": None,
        "unsealed": 1,
        "problem": None,
        "detail": None,
    }
    recorded = (await all_events())[-1]
    assert recorded.action == "audit.verified"
    assert recorded.actor_id == subject_of(auditor)
    assert recorded.details == {"valid": True, "events_checked": 4}


async def test_the_api_names_an_event_changed_in_the_database(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await record_events(6)
    await seal()
    await tamper("UPDATE audit_events SET action = 'agency.deleted' WHERE seq = 3")

    body = (await client.get("/v1/audit/verify", headers=auditor)).json()

    assert body["valid"] is False
    assert body["first_invalid_seq"] == 3
    assert body["problem"] == "leaf_changed"
    assert body["events_checked"] == 3
    logged = (await all_events())[-1]
    assert logged.details == {
        "valid": False,
        "events_checked": 3,
        "first_invalid_seq": 3,
        "problem": "leaf_changed",
    }


async def test_the_api_finds_a_deleted_last_event(client: httpx.AsyncClient, auditor: dict[str, str]) -> None:
    await record_events(5)
    await seal()
    await tamper("DELETE FROM audit_events WHERE seq = 4")

    body = (await client.get("/v1/audit/verify", headers=auditor)).json()

    assert body["valid"] is False
    assert (body["first_invalid_seq"], body["problem"]) == (4, "leaf_missing")
    assert body["tree_size"] == 5
    assert body["events_checked"] == 4


async def test_concurrent_writers_each_reach_the_log_once(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    user = await make_user(await make_agency(), password="right-password")
    admin = bearer(None, Role.PLATFORM_ADMIN)
    logins = [
        password_token(client, user.username, "right-password" if n % 4 else "wrong-password")
        for n in range(20)
    ]
    creations = [
        client.post(
            "/v1/agencies",
            json={"name": f"Agency {n}", "kind": "debt_advice", "local_authority": "Wrexham"},
            headers=admin,
        )
        for n in range(20)
    ]

    responses = await asyncio.gather(*logins, *creations)
    await seal()

    assert sorted(r.status_code for r in responses) == [200] * 15 + [201] * 20 + [400] * 5
    events = await all_events()
    actions = [e.action for e in events]
    assert (actions.count("auth.token_issued"), actions.count("auth.login_failed")) == (15, 5)
    assert actions.count("agency.created") == 21
    assert sorted(e.seq for e in events if e.seq is not None) == list(range(42))
    verdict = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert verdict["valid"] is True
    assert verdict["events_checked"] == 42


# Who may read the trail

AUDIT_ROUTES = [
    "/v1/audit/events",
    "/v1/audit/verify",
    f"/v1/audit/export?referral_id={uuid.uuid4()}",
    "/v1/audit/checkpoint",
    "/v1/audit/proofs/inclusion?index=0&tree_size=1",
    "/v1/audit/proofs/consistency?from_size=1&to_size=1",
]


@pytest.mark.parametrize("path", AUDIT_ROUTES)
@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AGENCY_ADMIN, Role.PLATFORM_ADMIN])
async def test_only_auditors_may_read_the_trail(client: httpx.AsyncClient, path: str, role: Role) -> None:
    agency = await make_agency() if role in {Role.CASEWORKER, Role.AGENCY_ADMIN} else None

    response = await client.get(path, headers=bearer(agency, role))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["required_scopes"] == ["audit:read"]
    assert not [e for e in await all_events() if e.action.startswith("audit.")]


@pytest.mark.parametrize("path", AUDIT_ROUTES)
async def test_the_trail_needs_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_client_granted_audit_read_may_search(client: httpx.AsyncClient) -> None:
    api_client = await make_client(None, [Scope.AUDIT_READ], secret="audit-secret")
    token = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": "audit-secret",
        },
    )

    await seal()
    response = await client.get(
        "/v1/audit/events", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )

    assert response.status_code == 200
    assert [e["action"] for e in response.json()["items"]] == ["client.created", "auth.token_issued"]


# Searching


async def test_an_auditors_search_is_itself_in_the_trail(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    referral_id = uuid.uuid4()
    await record_events(3, referral_id=referral_id)

    found = await search(client, auditor, referral_id=str(referral_id), action="test.recorded")
    searches = await search(client, auditor, action="audit.searched")

    assert len(found) == 3
    assert len(searches) == 1
    logged = searches[0]
    assert logged["actor"] == {"kind": "user", "id": subject_of(auditor), "agency_id": None}
    assert logged["referral_id"] == str(referral_id)
    assert logged["details"] == {"referral_id": str(referral_id), "action": "test.recorded", "count": 3}


async def test_search_results_have_the_wire_shape(client: httpx.AsyncClient, auditor: dict[str, str]) -> None:
    agency = await make_agency(AgencyKind.DEBT_ADVICE)

    (item,) = await search(client, auditor)

    assert set(item) == WIRE_FIELDS
    assert item["actor"] == {"kind": "system", "id": "tests", "agency_id": None}
    assert (item["action"], item["entity_type"], item["entity_id"]) == (
        "agency.created",
        "agency",
        str(agency.id),
    )
    assert item["details"] == {"kind": "debt_advice"}
    assert item["seq"] == 0
    assert base64.b64decode(item["leaf_hash"]) == rfc9162.entry_hash(item)
    assert datetime.fromisoformat(item["at"]).utcoffset() is not None


AGENCY_X, AGENCY_Y = uuid.uuid4(), uuid.uuid4()
R1, R2, S1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ACTOR_A = AuditActor(kind=ActorKind.USER, id="user-a", agency_id=AGENCY_X)
ACTOR_B = AuditActor(kind=ActorKind.CLIENT, id="rxc_client-b", agency_id=AGENCY_Y)
ACTOR_C = AuditActor(kind=ActorKind.USER, id="user-c", agency_id=AGENCY_X)


async def three_commits() -> list[datetime]:
    """Events 0-1, 2-4 and 5, committed separately so each group has its own time."""
    await record_events(2, action="referral.viewed", actor=ACTOR_A, referral_id=R1, subject_id=S1)
    await record_events(3, action="referral.created", actor=ACTOR_B, referral_id=R2, subject_id=S1)
    await record_events(1, action="referral.viewed", actor=ACTOR_C, referral_id=R2)
    return [e.at for e in await all_events()]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"referral_id": str(R1)}, [0, 1]),
        ({"subject_id": str(S1)}, [0, 1, 2, 3, 4]),
        ({"actor_id": "user-c"}, [5]),
        ({"agency_id": str(AGENCY_X)}, [0, 1, 5]),
        ({"action": "referral.viewed"}, [0, 1, 5]),
        ({"action": "referral.viewed", "agency_id": str(AGENCY_X), "referral_id": str(R2)}, [5]),
        ({"since": 2}, [2, 3, 4, 5]),
        ({"until": 5}, [0, 1, 2, 3, 4]),
        ({"since": 2, "until": 5}, [2, 3, 4]),
        ({"actor_id": "nobody"}, []),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, auditor: dict[str, str], params: dict[str, Any], expected: list[int]
) -> None:
    times = await three_commits()
    # Time filters name the event whose time to use, as the times are only known now.
    query = {k: times[v].isoformat() if k in {"since", "until"} else v for k, v in params.items()}

    assert await seqs_found(client, auditor, **query) == expected


async def test_times_accept_a_z_suffix_and_need_an_offset(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await record_events(2)

    assert await seqs_found(client, auditor, since="2000-01-01T00:00:00Z") == [0, 1]
    naive = await client.get("/v1/audit/events", params={"since": "2000-01-01T00:00:00"}, headers=auditor)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "since"


async def test_an_inverted_time_window_is_refused(client: httpx.AsyncClient, auditor: dict[str, str]) -> None:
    response = await client.get(
        "/v1/audit/events",
        params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=auditor,
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "until", "message": "must not be before since"}]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "Natalie Example"}, "action"),
        ({"actor_id": "a b"}, "actor_id"),
        ({"agency_id": "x"}, "agency_id"),
    ],
)
async def test_filters_take_ids_and_codes_only(
    client: httpx.AsyncClient, auditor: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/audit/events", params=params, headers=auditor)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_cursor_pages_neither_repeat_nor_skip(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await record_events(10, action="test.paged")
    await record_events(3, action="test.other")
    await record_events(15, action="test.paged")
    await seal()
    seen: list[int] = []
    cursor: str | None = None
    pages = 0

    while True:
        params: dict[str, str | int] = {"action": "test.paged", "limit": 7}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/audit/events", params=params, headers=auditor)).json()
        seen += [item["seq"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 4
    assert seen == list(range(10)) + list(range(13, 28))
    logged = [e.details for e in await all_events() if e.action == "audit.searched"]
    assert [d["count"] for d in logged] == [7, 7, 7, 4]
    assert [d.get("after_seq") for d in logged] == [None, 6, 16, 23]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": encode_cursor("audit-events", ["seven"])},
        {"limit": 0},
        {"limit": 201},
    ],
)
async def test_bad_cursor_or_limit_is_422(
    client: httpx.AsyncClient, auditor: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get("/v1/audit/events", params=params, headers=auditor)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == next(iter(params))


# Exporting


async def export(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit/export", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    return [json.loads(line) for line in response.text.splitlines()]


async def test_a_referrals_trail_exports_as_json_lines_in_order(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    referral_id, other, subject_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await record_events(2, referral_id=referral_id)
    await record_events(2, referral_id=other)
    await record_events(1, referral_id=referral_id, subject_id=subject_id)
    await seal()

    lines = await export(client, auditor, referral_id=str(referral_id))

    assert [line["seq"] for line in lines] == [0, 1, 4]
    assert all(set(line) == WIRE_FIELDS for line in lines)
    assert all(line["referral_id"] == str(referral_id) for line in lines)
    events = {e.seq: e for e in await all_events()}
    assert lines == [
        json.loads(AuditEventPublic.from_event(events[line["seq"]]).model_dump_json()) for line in lines
    ]


async def test_exports_are_in_the_trail_they_export(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    referral_id, subject_id = uuid.uuid4(), uuid.uuid4()
    await record_events(2, referral_id=referral_id, subject_id=subject_id)
    await seal()

    await export(client, auditor, referral_id=str(referral_id))
    by_subject = await export(client, auditor, subject_id=str(subject_id))
    again = await export(client, auditor, referral_id=str(referral_id))

    assert [line["seq"] for line in by_subject] == [0, 1]
    assert again[-1]["seq"] is None  # not sealed yet: unsealed events come last
    exported = again[-1]
    assert exported["action"] == "audit.exported"
    assert exported["actor"]["id"] == subject_of(auditor)
    assert (exported["entity_type"], exported["entity_id"]) == ("referral", str(referral_id))
    assert exported["details"] == {"referral_id": str(referral_id), "count": 2}
    logged = [e for e in await all_events() if e.action == "audit.exported"]
    assert [(e.entity_type, e.subject_id, e.details.get("count")) for e in logged] == [
        ("referral", None, 2),
        ("subject", subject_id, 2),
        ("referral", None, 3),
    ]


@pytest.mark.parametrize(
    "params",
    [{}, {"referral_id": str(uuid.uuid4()), "subject_id": str(uuid.uuid4())}],
)
async def test_export_needs_exactly_one_of_referral_or_subject(
    client: httpx.AsyncClient, auditor: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/v1/audit/export", params=params, headers=auditor)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"referral_id", "subject_id"}
    assert await all_events() == []


async def test_export_names_a_malformed_id(client: httpx.AsyncClient, auditor: dict[str, str]) -> None:
    response = await client.get("/v1/audit/export", params={"referral_id": "nope"}, headers=auditor)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "referral_id"


# What logging in leaves behind


async def test_logins_and_tokens_are_in_the_trail_without_credentials(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    user = await make_user(await make_agency(), password="hunter2-right", username="natalie.example")
    api_client = await make_client(None, [Scope.AUDIT_READ], secret="client-secret-right")

    await password_token(client, "natalie.example", "hunter2-wrong")
    await password_token(client, "someone.unknown", "hunter2-guess")
    await password_token(client, "natalie.example", "hunter2-right")
    await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": api_client.client_id, "client_secret": "nope"},
    )

    failed = await search(client, auditor, action="auth.login_failed")
    issued = await search(client, auditor, action="auth.token_issued")

    assert [(e["actor"]["kind"], e["actor"]["id"], e["details"]) for e in failed] == [
        ("user", str(user.id), {"grant_type": "password", "reason": "bad_password"}),
        ("anonymous", None, {"grant_type": "password", "reason": "unknown_user"}),
        ("client", api_client.client_id, {"grant_type": "client_credentials", "reason": "bad_secret"}),
    ]
    assert [(e["actor"]["id"], e["details"]["grant_type"]) for e in issued] == [(str(user.id), "password")]
    trail = json.dumps([AuditEventPublic.from_event(e).model_dump(mode="json") for e in await all_events()])
    for secret in ("natalie.example", "someone.unknown", "hunter2", "client-secret-right", "nope"):
        assert secret not in trail
