"""The directory: every agency and the services it offers, searchable."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.config import get_settings
from app.deps import SessionDep
from app.models.directory import Purpose
from app.services import directory
from app.web.auth import SignedInDep
from app.web.templating import render

router = APIRouter()
Words = Annotated[str, Query(max_length=100)]


@router.get("/directory")
async def directory_page(
    request: Request, session: SessionDep, _who: SignedInDep, q: Words = "", purpose: Words = ""
) -> Response:
    """Agencies and their services; search services by words and purpose."""
    chosen = Purpose(purpose) if purpose in set(Purpose) else None
    filters = directory.ServiceFilters(purpose=chosen, q=q.strip() or None)
    services, _ = await directory.list_services(
        session, filters, cursor=None, limit=get_settings().max_page_size
    )
    agencies, _ = await directory.list_agencies(
        session, kind=None, local_authority=None, cursor=None, limit=get_settings().max_page_size
    )
    context = {
        "query": {"q": q.strip(), "purpose": purpose},
        "services": services,
        "agencies": agencies,
        "agency_names": {a.id: a.name for a in agencies},
    }
    return render(request, "directory.html", context)
