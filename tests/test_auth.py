"""The token endpoint's grants, and how tokens are checked on every call."""

import base64
import json
import time

import httpx
import pytest
from jose import jwt
from sqlalchemy import select
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker
from app.models.audit import AuditEvent
from app.models.directory import AgencyKind
from app.models.identity import Role, Scope
from app.unit_of_work import committed
from tests.support.factories import bearer, make_agency, make_client, make_user, password_token


def claims_of(token: str) -> dict[str, object]:
    return dict(jwt.get_unverified_claims(token))


async def audit_actions() -> list[str]:
    async with get_sessionmaker()() as session:
        return list(
            (await session.execute(select(col(AuditEvent.action)).order_by(col(AuditEvent.seq)))).scalars()
        )


async def test_password_grant_issues_a_token_carrying_the_users_agency(client: httpx.AsyncClient) -> None:
    agency = await make_agency(AgencyKind.CHILDRENS_CENTRE)
    user = await make_user(agency, Role.CASEWORKER, password="pa55word!")

    response = await password_token(client, user.username, "pa55word!")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().user_token_ttl_seconds
    assert set(body["scope"].split()) == {"referrals:read", "referrals:write"}
    claims = claims_of(body["access_token"])
    assert claims["agency_id"] == str(agency.id)
    assert claims["sub"] == str(user.id)
    assert claims["role"] == "caseworker"
    assert isinstance(claims["exp"], int)
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["agency_id"] == str(agency.id)
    assert await audit_actions() == ["agency.created", "user.created", "auth.token_issued"]


async def test_usernames_are_case_insensitive(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_agency(), password="pw-123456")
    response = await password_token(client, user.username.upper(), "pw-123456")
    assert response.status_code == 200


@pytest.mark.parametrize("wrong", ["bad password", "unknown user"])
async def test_password_grant_refuses_bad_credentials_and_audits_them(
    client: httpx.AsyncClient, wrong: str
) -> None:
    user = await make_user(await make_agency(), password="right-password")
    username = user.username if wrong == "bad password" else "nobody-here"

    response = await password_token(client, username, "wrong-password")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()
    assert (await audit_actions())[-1] == "auth.login_failed"


async def test_inactive_user_cannot_log_in(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_agency(), password="right-password")

    async def deactivate(session):  # type: ignore[no-untyped-def]
        found = await session.get(type(user), user.id)
        found.is_active = False

    await committed(deactivate)
    response = await password_token(client, user.username, "right-password")
    assert response.json()["error"] == "invalid_grant"


async def test_client_credentials_grant_in_the_form_body(client: httpx.AsyncClient) -> None:
    agency = await make_agency(AgencyKind.DEBT_ADVICE)
    api_client = await make_client(agency, [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE], secret="top-secret")

    response = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": "top-secret",
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == get_settings().client_token_ttl_seconds
    claims = claims_of(body["access_token"])
    assert claims["agency_id"] == str(agency.id)
    assert claims["sub"] == api_client.client_id
    assert claims["kind"] == "client"
    assert set(str(claims["scope"]).split()) == {"referrals:read", "referrals:write"}


async def test_client_credentials_grant_with_http_basic(client: httpx.AsyncClient) -> None:
    api_client = await make_client(await make_agency(), [Scope.REFERRALS_READ], secret="basic-secret")
    basic = base64.b64encode(f"{api_client.client_id}:basic-secret".encode()).decode()

    response = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200, response.text


async def test_client_credentials_refuses_a_wrong_secret(client: httpx.AsyncClient) -> None:
    api_client = await make_client(await make_agency(), [Scope.REFERRALS_READ], secret="right")

    response = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": "wrong",
        },
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers
    assert (await audit_actions())[-1] == "auth.login_failed"


async def test_requested_scope_narrows_the_token(client: httpx.AsyncClient) -> None:
    api_client = await make_client(
        await make_agency(), [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE], secret="s"
    )

    response = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": "s",
            "scope": "referrals:read",
        },
    )

    assert response.json()["scope"] == "referrals:read"


async def test_scope_not_granted_is_invalid_scope(client: httpx.AsyncClient) -> None:
    api_client = await make_client(await make_agency(), [Scope.REFERRALS_READ], secret="s")

    response = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api_client.client_id,
            "client_secret": "s",
            "scope": "referrals:read directory:write",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "password", "username": "someone"}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "invalid_request"),
    ],
)
async def test_malformed_token_requests(client: httpx.AsyncClient, form: dict[str, str], error: str) -> None:
    response = await client.post("/v1/oauth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_missing_token_is_401_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/agencies")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def test_expired_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/agencies", headers=bearer(await make_agency(), ttl=-60))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_tampered_token_is_401(client: httpx.AsyncClient) -> None:
    token = bearer(await make_agency())["Authorization"].split()[1]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "directory:write audit:read"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})

    assert response.status_code == 401


async def test_token_signed_with_another_key_is_401(client: httpx.AsyncClient) -> None:
    settings = get_settings()
    token = jwt.encode(
        {
            "sub": "x",
            "kind": "user",
            "scope": "directory:write",
            "iat": 0,
            "exp": 4102444800,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
        },
        "another-key",
        algorithm="HS256",
    )
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_unsigned_token_is_401(client: httpx.AsyncClient) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    payload = (
        base64.urlsafe_b64encode(b'{"sub":"x","kind":"user","scope":"directory:write"}').decode().rstrip("=")
    )
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {header}.{payload}."})
    assert response.status_code == 401


@pytest.fixture
async def someone() -> str:
    """The id of an active member of staff, whom the hand-made tokens below name."""
    return str((await make_user(await make_agency())).id)


def signed(sub: str, /, **overrides: object) -> dict[str, str]:
    """A bearer header for a token signed with the service's key, with claims changed or removed."""
    settings = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "kind": "user",
        "scope": "referrals:read",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm)
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_with_every_claim_is_accepted(client: httpx.AsyncClient, someone: str) -> None:
    assert (await client.get("/v1/me", headers=signed(someone))).status_code == 200


@pytest.mark.parametrize("claim", ["aud", "iss", "exp", "iat", "sub"])
async def test_a_token_missing_a_required_claim_is_401(
    client: httpx.AsyncClient, claim: str, someone: str
) -> None:
    response = await client.get("/v1/me", headers=signed(someone, **{claim: None}))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_a_token_issued_in_the_future_is_401(client: httpx.AsyncClient, someone: str) -> None:
    later = int(time.time()) + 300
    response = await client.get("/v1/me", headers=signed(someone, iat=later, exp=later + 600))
    assert response.status_code == 401


async def test_a_clock_a_few_seconds_ahead_is_tolerated(client: httpx.AsyncClient, someone: str) -> None:
    response = await client.get("/v1/me", headers=signed(someone, iat=int(time.time()) + 10))
    assert response.status_code == 200
