"""Control characters are refused with a 422 naming the field, the same on SQLite and PostgreSQL."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import get_sessionmaker
from app.models.identity import Role
from app.models.message import Message
from app.models.subject import Subject
from app.text_guard import MESSAGE
from tests.support.factories import make_agency, make_user, password_token
from tests.support.referral_helpers import Network, create_referral, referral_body, subject_body
from tests.support.staff import make_staff
from tests.support.web_support import browser, csrf_of, signed_in_as

# NUL, escape, delete, a C1 control (NEL) and a lone surrogate, as JSON escapes.
CHARACTERS = ["\\u0000", "\\u001b", "\\u007f", "\\u0085", "\\ud800"]


def with_text(body: dict[str, Any], path: str, escaped: str) -> bytes:
    """The body as JSON, with the string at `path` (dotted) made to hold `escaped` (a JSON escape)."""
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    target[last] = "LL13@@9AA"
    return json.dumps(body).replace("@@", escaped).encode()


async def people_stored() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Subject)) or 0)


FIELDS = ["subject.given_name", "subject.phone", "subject.postcode", "subject.family_name", "reason"]


@pytest.mark.parametrize(
    ("field", "character"), [*zip(FIELDS, CHARACTERS, strict=True), ("consent.given_by", "\\u0000")]
)
async def test_a_control_character_in_a_referral_is_422_naming_the_field(
    client: httpx.AsyncClient, net: Network, field: str, character: str
) -> None:
    body = with_text(referral_body(net.debt_service), field, character)

    response = await client.post(
        "/v1/referrals", content=body, headers={**net.centre_headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await people_stored() == 0


async def test_notes_may_run_over_several_lines(client: httpx.AsyncClient, net: Network) -> None:
    body = referral_body(net.debt_service, reason="Rent arrears.\r\n\tAlso a catalogue debt.")
    response = await client.post("/v1/referrals", json=body, headers=net.centre_headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("field", ["given_name", "family_name", "phone", "postcode"])
async def test_a_persons_details_stay_on_one_line(
    client: httpx.AsyncClient, net: Network, field: str
) -> None:
    body = referral_body(net.debt_service, subject=subject_body(**{field: "LL13\n9AA"}))

    response = await client.post("/v1/referrals", json=body, headers=net.centre_headers)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"subject.{field}"]


async def test_a_control_character_in_the_query_is_422_naming_the_parameter(
    client: httpx.AsyncClient, net: Network
) -> None:
    response = await client.get(
        "/v1/agencies", params={"local_authority": "Wrexham\x00"}, headers=net.centre_headers
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "local_authority", "in": "query", "message": "must not contain control characters"}
    ]


async def test_a_control_character_in_a_form_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_agency(), password="pa55word!")

    response = await password_token(client, user.username + "\x00", "pa55word!")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["username"]


def multipart(fields: dict[str, str], boundary: str = "rx-boundary-7d3f") -> tuple[bytes, dict[str, str]]:
    """`fields` as a multipart/form-data body, as a browser or a partner system may send a form."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize(
    "fields",
    [
        {"grant_type": "password", "username": "someone\x00", "password": "pa55word!"},
        {"grant_type": "client_credentials", "client_id": "rxc_\x00", "client_secret": "s3cret"},
    ],
)
async def test_a_control_character_in_a_multipart_form_is_422_naming_the_field(
    client: httpx.AsyncClient, fields: dict[str, str]
) -> None:
    body, headers = multipart(fields)

    response = await client.post("/v1/oauth/token", content=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    field = next(name for name, value in fields.items() if "\x00" in value)
    assert response.json()["errors"] == [{"field": field, "in": "body", "message": MESSAGE}]


async def test_a_file_in_a_form_is_refused_naming_its_field(client: httpx.AsyncClient) -> None:
    form = {"grant_type": "password", "username": "someone", "password": "pa55word!"}
    upload = {"attachment": ("notes.txt", b"plain text", "text/plain")}

    response = await client.post("/v1/oauth/token", data=form, files=upload)

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "attachment", "in": "body", "message": "must be text: no file is accepted"}
    ]


async def test_a_multipart_sign_in_with_a_control_character_is_refused_with_a_page(app: FastAPI) -> None:
    async with browser(app) as page_client:
        page = await page_client.get("/sign-in")
        body, headers = multipart({"username": "bad\x00name", "password": "x", "csrf_token": csrf_of(page)})
        refused = await page_client.post("/sign-in", content=body, headers=headers)
    assert refused.status_code == 422
    assert "Sorry, we could not accept what you entered" in refused.text


async def messages_stored() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.mark.parametrize("character", ["\x1b", "\x07", "\x85", "\x00"])
async def test_a_control_character_in_a_multipart_message_is_refused_and_not_stored(
    app: FastAPI, client: httpx.AsyncClient, net: Network, character: str
) -> None:
    referral = await create_referral(client, net)
    async with browser(app) as page_client:
        await signed_in_as(page_client, net.debt)
        page = await page_client.get(f"/referrals/{referral['id']}")
        fields = {"csrf_token": csrf_of(page), "message": f"Call her on Tuesday{character}[2J"}
        body, headers = multipart(fields)
        refused = await page_client.post(
            f"/referrals/{referral['id']}/messages", content=body, headers=headers
        )
    assert refused.status_code == 422
    assert "Sorry, we could not accept what you entered" in refused.text
    assert await messages_stored() == 0


# Direction overrides, isolates and marks, zero-width spaces and joiners, a byte order mark, a soft
# hyphen: invisible, each makes a name read differently from what it holds (or look like another).
FORMAT_CHARACTERS = ["\u202e", "\u200b", "\u2066", "\u2069", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u2060"]


@pytest.mark.parametrize(
    ("field", "character"),
    [(("given_name", "family_name")[n % 2], c) for n, c in enumerate(FORMAT_CHARACTERS)],
)
async def test_an_invisible_formatting_character_in_a_persons_name_is_422_naming_the_field(
    client: httpx.AsyncClient, net: Network, field: str, character: str
) -> None:
    body = referral_body(net.debt_service, subject=subject_body(**{field: f"Natalie{character}eilataN"}))

    response = await client.post("/v1/referrals", json=body, headers=net.centre_headers)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"subject.{field}"]
    assert await people_stored() == 0


@pytest.mark.parametrize("character", ["\u202e", "\u200b", "\u2067", "\ufeff"])
async def test_an_invisible_formatting_character_in_a_display_name_is_422_naming_the_field(
    client: httpx.AsyncClient, character: str
) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    name = {"display_name": f"Sam{character}Jones"}
    new_user = {"username": "sam.jones", "role": "caseworker", **name}

    answers = [
        await client.post("/v1/users", json=new_user, headers=admin.headers),
        await client.patch(f"/v1/users/{admin.user.id}", json=name, headers=admin.headers),
        await client.patch("/v1/me", json=name, headers=admin.headers),
    ]

    for response in answers:
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["display_name"]
    assert (
        await client.patch("/v1/me", json={"display_name": "Sam Jones"}, headers=admin.headers)
    ).is_success
