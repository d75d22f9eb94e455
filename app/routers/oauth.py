"""The OAuth2 token endpoint."""

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Header
from pydantic import BaseModel

from app.deps import SessionDep, SettingsDep
from app.errors import OAuthError
from app.models.identity import TokenResponse
from app.services import identity

router = APIRouter(prefix="/v1/oauth", tags=["auth"])


class TokenForm(BaseModel):
    grant_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401) from None
    return client_id, secret


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={400: {"description": "RFC 6749 error"}, 401: {"description": "Client authentication failed"}},
)
async def token(
    form: Annotated[TokenForm, Form()],
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenResponse:
    """Issue an access token for the client_credentials or password grant."""
    basic_id, basic_secret = _basic_credentials(authorization)
    request = identity.TokenRequest(
        grant_type=form.grant_type,
        scope=form.scope,
        client_id=basic_id or form.client_id,
        client_secret=basic_secret or form.client_secret,
        username=form.username,
        password=form.password,
    )
    return await identity.grant_token(session, settings, request)
