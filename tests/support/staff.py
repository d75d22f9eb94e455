"""Staff accounts for the team tests: made through the service, signed in through the token endpoint."""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from app.models.directory import Agency
from app.models.identity import Role, User
from tests.support.factories import make_user, password_token

PASSWORD = "three random words"


@dataclass
class Staff:
    user: User
    headers: dict[str, str]


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await password_token(client, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def make_staff(
    client: httpx.AsyncClient,
    agency: Agency | None,
    role: Role = Role.CASEWORKER,
    username: str | None = None,
    email: str | None = None,
) -> Staff:
    user = await make_user(agency, role, password=PASSWORD, username=username, email=email)
    return Staff(user, await sign_in(client, user.username))


def link_token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]
