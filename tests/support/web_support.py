"""Driving the staff pages without a browser: a cookie-keeping client, form tokens, sign-in."""

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.models.directory import Agency
from app.models.identity import Role, User
from tests.support.factories import back_minted_token, make_user

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies like a browser; https, so Secure cookies come back."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client


def api(app: FastAPI) -> httpx.AsyncClient:
    """A partner system's client for the API, with the accounts behind minted tokens made."""
    transport = httpx.ASGITransport(app=app)
    hooks = {"request": [back_minted_token]}
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", event_hooks=hooks)


def csrf_of(page: httpx.Response) -> str:
    """The form token a page carries."""
    found = _TOKEN.search(page.text)
    assert found, "the page has no form token"
    return found.group(1)


async def submit(
    client: httpx.AsyncClient, page_path: str, data: Mapping[str, str | list[str]], action: str | None = None
) -> httpx.Response:
    """Open a page and post its form as a browser would, with the page's token."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    body = {**data, "csrf_token": csrf_of(page)}
    return await client.post(action or page_path, data=body)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await submit(client, "/sign-in", {"username": username, "password": password})


async def signed_in_as(
    client: httpx.AsyncClient, agency: Agency | None, role: Role = Role.CASEWORKER
) -> User:
    """A new user of the agency, signed in on this client."""
    user = await make_user(agency, role, password=PASSWORD)
    response = await sign_in(client, user.username)
    assert response.status_code == 303, response.text
    return user
