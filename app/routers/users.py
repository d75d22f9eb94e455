"""Staff accounts: listed, added and changed by agency admins (their own agency) and platform admins."""

import uuid

from fastapi import APIRouter, Response, status

from app.deps import SessionDep, SettingsDep, UserManager
from app.errors import Responses
from app.models.identity import (
    PasswordLinkReissued,
    Role,
    SetPassword,
    UserCreate,
    UserCreated,
    UserPublic,
    UserUpdate,
)
from app.pagination import CursorParam, LimitParam, Page
from app.services import users

router = APIRouter(prefix="/v1", tags=["users"])
PROBLEMS: Responses = {
    403: {"description": "Needs the users:manage scope, or a role the caller may not give"},
    404: {"description": "No such user, or one of another agency"},
    422: {"description": "Invalid request; `errors` names each field"},
}


@router.get("/users", response_model=Page[UserPublic], responses={403: PROBLEMS[403], 422: PROBLEMS[422]})
async def list_users(
    session: SessionDep,
    principal: UserManager,
    agency_id: uuid.UUID | None = None,
    role: Role | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[UserPublic]:
    """List staff by username (an agency admin sees their own agency's)."""
    return await users.list_users(
        session, principal, agency_id=agency_id, role=role, cursor=cursor, limit=limit
    )


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The username is taken"}, **PROBLEMS},
)
async def create_user(
    body: UserCreate, session: SessionDep, settings: SettingsDep, principal: UserManager, response: Response
) -> UserCreated:
    """Add a member of staff; the response carries their single-use set-password link."""
    created = await users.create(session, settings, principal, body)
    response.headers["Location"] = f"/v1/users/{created.id}"
    return created


@router.get("/users/{user_id}", response_model=UserPublic, responses=PROBLEMS)
async def get_user(user_id: uuid.UUID, session: SessionDep, principal: UserManager) -> UserPublic:
    """One member of staff."""
    return UserPublic.of(await users.get_managed(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserPublic, responses=PROBLEMS)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, session: SessionDep, principal: UserManager
) -> UserPublic:
    """Change a user's status, role, details, absence or notification preferences."""
    return await users.update_user(session, principal, user_id, body)


@router.post("/users/{user_id}/set-password-link", response_model=PasswordLinkReissued, responses=PROBLEMS)
async def reissue_link(
    user_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: UserManager
) -> PasswordLinkReissued:
    """Issue a new single-use set-password link for a user (earlier links stop working).

    The user is told by email that a link was issued (not the link), when they have an address.
    """
    return await users.reissue_link(session, settings, principal, user_id)


@router.post(
    "/set-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={422: {"description": "The link is not valid, or the password too short"}},
)
async def set_password(body: SetPassword, session: SessionDep) -> Response:
    """Set your password with the token from your single-use set-password link."""
    await users.set_password(session, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
