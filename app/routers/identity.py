"""Who the caller is, as the service sees their token."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import CurrentPrincipal
from app.models.audit import ActorKind
from app.models.identity import Role

router = APIRouter(prefix="/v1", tags=["auth"])


class PrincipalPublic(BaseModel):
    kind: ActorKind
    id: str
    agency_id: uuid.UUID | None
    role: Role | None
    scopes: list[str]


@router.get("/me", response_model=PrincipalPublic)
async def me(principal: CurrentPrincipal) -> PrincipalPublic:
    """The authenticated caller: subject, agency, role and granted scopes."""
    return PrincipalPublic(
        kind=principal.kind,
        id=principal.id,
        agency_id=principal.agency_id,
        role=principal.role,
        scopes=sorted(principal.scopes),
    )
