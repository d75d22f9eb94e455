"""Request bodies over MAX_BODY_BYTES get 413, declared or streamed without a length."""

import json
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.config import get_settings
from app.middleware import BodySizeLimit
from tests.support.referral_helpers import make_network, referral_body

PROBLEM = "application/problem+json"


def oversized_referral(service_body: dict[str, object]) -> bytes:
    body = service_body | {"reason": "x" * (get_settings().max_body_bytes + 1)}
    return json.dumps(body).encode()


async def in_chunks(data: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/payload-too-large")
    assert body["max_bytes"] == get_settings().max_body_bytes


async def inbox_size(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/v1/referrals", params={"box": "inbox"}, headers=headers)
    return len(response.json()["items"])


async def test_declared_length_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    net = await make_network()
    data = oversized_referral(referral_body(net.debt_service))

    response = await client.post(
        "/v1/referrals", content=data, headers={**net.centre_headers, "Content-Type": "application/json"}
    )

    assert_too_large(response)
    assert await inbox_size(client, net.debt_headers) == 0


async def test_chunked_body_without_length_is_counted_as_it_streams(client: httpx.AsyncClient) -> None:
    net = await make_network()
    data = oversized_referral(referral_body(net.debt_service))

    response = await client.post(
        "/v1/referrals",
        content=in_chunks(data),
        headers={**net.centre_headers, "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert await inbox_size(client, net.debt_headers) == 0


async def test_chunked_body_under_the_limit_is_served(client: httpx.AsyncClient) -> None:
    net = await make_network()
    data = json.dumps(referral_body(net.debt_service)).encode()

    response = await client.post(
        "/v1/referrals",
        content=in_chunks(data, size=64),
        headers={**net.centre_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text


async def _swallowing_app(scope: Scope, receive: Receive, send: Send) -> None:
    # An application that turns any failed read into its own 400, as body parsers do.
    try:
        await Request(scope, receive).body()
    except Exception:
        await JSONResponse({"detail": "bad body"}, status_code=400)(scope, receive, send)
        return
    await JSONResponse({"ok": True})(scope, receive, send)


async def test_limit_holds_whatever_the_application_makes_of_the_aborted_read() -> None:
    transport = httpx.ASGITransport(app=BodySizeLimit(_swallowing_app, max_bytes=10))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        refused = await http.post("/", content=in_chunks(b"x" * 11, size=4))
        exact = await http.post("/", content=in_chunks(b"x" * 10, size=4))

    assert refused.status_code == 413
    assert refused.json()["max_bytes"] == 10
    assert exact.status_code == 200
