"""Who the caller is, as the service sees their token, and their own settings."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import CurrentPrincipal, SessionDep
from app.models.audit import ActorKind
from app.models.directory import AgencyPublic
from app.models.identity import MeUpdate, Role, UserPublic
from app.services import users

router = APIRouter(prefix="/v1", tags=["auth"])


class PrincipalPublic(BaseModel):
    kind: ActorKind
    id: str
    agency_id: uuid.UUID | None
    agency: AgencyPublic | None
    role: Role | None
    scopes: list[str]
    user: UserPublic | None


@router.get("/me", response_model=PrincipalPublic)
async def me(principal: CurrentPrincipal, session: SessionDep) -> PrincipalPublic:
    """The authenticated caller: account, agency, role and the scopes this token carries."""
    found = await users.me(session, principal)
    return PrincipalPublic(
        kind=principal.kind,
        id=principal.id,
        agency_id=principal.agency_id,
        agency=users.agency_public(found.agency),
        role=principal.role,
        scopes=sorted(principal.scopes),
        user=UserPublic.of(found.user) if found.user else None,
    )


@router.patch("/me", response_model=UserPublic, responses={403: {"description": "Not a staff account"}})
async def update_me(body: MeUpdate, principal: CurrentPrincipal, session: SessionDep) -> UserPublic:
    """Set your display name, when you are away until, and your notification preferences."""
    return await users.update_self(session, principal, body)
