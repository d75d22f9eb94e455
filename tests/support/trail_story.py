"""A referral with a trail worth reading: named staff and a partner system make, open, accept
and assign it, through the API as their own accounts."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from app.models.directory import Agency
from app.models.identity import ApiClient, Role, Scope, User
from app.services import identity
from app.unit_of_work import committed
from tests.support.factories import SYSTEM, password_token, seal
from tests.support.referral_helpers import Network, make_network, move, referral_body
from tests.support.web_support import PASSWORD

CLIENT_SECRET = "case-system-secret-value"


@dataclass
class TrailStory:
    net: Network
    nia: User  # the children's centre adviser who refers
    sam: User  # the debt adviser who opens, accepts and assigns
    ceri: User  # Sam's colleague, given the referral
    system: ApiClient  # the debt agency's case-management system
    referral: dict[str, Any]


async def staff(agency: Agency | None, display_name: str, role: Role = Role.CASEWORKER) -> User:
    """A member of staff with a display name and the test password."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    return await committed(
        lambda s: identity.create_user(
            s,
            SYSTEM,
            username=username,
            password=PASSWORD,
            role=role,
            agency_id=agency.id if agency else None,
            display_name=display_name,
        )
    )


async def partner_system(agency: Agency, name: str) -> ApiClient:
    client_id = f"case-{uuid.uuid4().hex[:8]}"
    scopes = [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE]
    return await committed(
        lambda s: identity.create_client(
            s,
            SYSTEM,
            client_id=client_id,
            secret=CLIENT_SECRET,
            name=name,
            agency_id=agency.id,
            scopes=scopes,
        )
    )


async def headers_of(client: httpx.AsyncClient, who: User | ApiClient) -> dict[str, str]:
    """A bearer token of the account itself, so the audit log names it."""
    if isinstance(who, User):
        response = await password_token(client, who.username, PASSWORD)
    else:
        form = {
            "grant_type": "client_credentials",
            "client_id": who.client_id,
            "client_secret": CLIENT_SECRET,
        }
        response = await client.post("/v1/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def make_trail(client: httpx.AsyncClient, views: int = 4) -> TrailStory:
    """Nia refers; Sam opens it `views` times, sees it twice in the inbox, accepts it and gives it
    to Ceri; the system reads it once."""
    net = await make_network()
    nia, sam = await staff(net.centre, "Nia Evans"), await staff(net.debt, "Sam Jones")
    ceri, system = await staff(net.debt, "Ceri Jones"), await partner_system(net.debt, "Debt case system")
    sent = await client.post(
        "/v1/referrals", json=referral_body(net.debt_service), headers=await headers_of(client, nia)
    )
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    sam_headers = await headers_of(client, sam)
    for _ in range(views - 1):  # `move` reads it once more
        assert (await client.get(f"/v1/referrals/{referral['id']}", headers=sam_headers)).status_code == 200
    for _ in range(2):  # the inbox shows it twice
        assert (await client.get("/v1/referrals?box=inbox", headers=sam_headers)).status_code == 200
    assert (await move(client, referral, sam_headers, "accepted")).status_code == 200
    given = await client.post(
        f"/v1/referrals/{referral['id']}/assignment", json={"user_id": str(ceri.id)}, headers=sam_headers
    )
    assert given.status_code == 200, given.text
    read = await client.get(f"/v1/referrals/{referral['id']}", headers=await headers_of(client, system))
    assert read.status_code == 200, read.text
    await seal()
    return TrailStory(net, nia, sam, ceri, system, referral)
