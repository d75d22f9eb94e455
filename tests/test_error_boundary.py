"""An error the routes did not expect is answered once, logged once, and the connection lives on.

Served by a real uvicorn: what matters is what happens to the client's keep-alive connection.
"""

import json
import logging

import pytest

from app.main import create_app
from tests.support.fault_support import PROBLEM, reconfigured
from tests.support.live_server import Answer, connected, serving
from tests.support.tcp_proxy import free_port

TOKEN_FORM = b"grant_type=client_credentials&client_id=someone&client_secret=something"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _fails() -> None:
    raise RuntimeError("a fault in the code")


async def test_on_a_staff_page_the_answers_are_pages(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()
    app.add_api_route("/test/fails", _fails)
    app.add_api_route("/test/no-database", _database_refuses)
    caplog.set_level(logging.INFO)

    async with serving(app) as port, connected(port) as connection:
        failed = await connection.request("GET", "/test/fails")
        unavailable = await connection.request("GET", "/test/no-database")

    assert (failed.status, failed.headers["content-type"]) == (500, "text/html; charset=utf-8")
    assert "Sorry, there is a problem" in failed.body.decode()
    assert (unavailable.status, unavailable.headers["content-type"]) == (503, "text/html; charset=utf-8")
    assert "Sorry, the service is unavailable" in unavailable.body.decode()
    assert int(unavailable.headers["retry-after"]) > 0
    assert errors_logged(caplog) == ["app.errors"]


async def _database_refuses() -> None:
    raise ConnectionRefusedError(111, "Connection refused")


async def refused_then_served(port: int) -> tuple[Answer, Answer]:
    """A token request the database cannot serve, then a health check on the same connection."""
    async with connected(port) as connection:
        refused = await connection.request("POST", "/v1/oauth/token", TOKEN_FORM, **FORM)
        return refused, await connection.request("GET", "/healthz")


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.name for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_500_is_answered_logged_once_and_the_connection_serves_the_next_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app()
    app.add_api_route("/v1/test/fails", _fails)
    caplog.set_level(logging.INFO)

    async with serving(app) as port, connected(port) as connection:
        failed = await connection.request("GET", "/v1/test/fails")
        after = await connection.request("GET", "/healthz")

    assert failed.status == 500
    assert failed.headers["content-type"] == PROBLEM
    assert "a fault in the code" not in failed.body.decode()
    assert after.status == 200
    assert errors_logged(caplog) == ["app.errors"]  # the server itself saw no exception


async def test_a_database_nothing_listens_at_is_a_503_and_the_connection_serves_the_next_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    caplog.set_level(logging.INFO)

    async with reconfigured(DATABASE_URL=nowhere), serving(create_app()) as port:
        for _ in range(3):
            refused, after = await refused_then_served(port)
            assert refused.status == 503
            assert int(refused.headers["retry-after"]) > 0
            assert json.loads(refused.body)["status"] == 503
            assert after.status == 200

    assert errors_logged(caplog) == []
    assert [r.getMessage() for r in caplog.records if r.name == "app.errors"] == [
        "database unavailable (refused) on POST /v1/oauth/token"
    ] * 3
