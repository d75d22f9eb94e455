"""Subject access: everything held about one person, released by a platform admin or auditor."""

import uuid

from fastapi import APIRouter

from app.deps import SessionDep, SubjectExporter
from app.errors import Responses
from app.models.subject_access import SubjectExport
from app.services import subject_access

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

EXPORT_RESPONSES: Responses = {
    403: {"description": "Needs the subjects:export scope, which only the admin and auditor roles hold"},
    404: {"description": "No such subject"},
}


@router.get("/{subject_id}/export", response_model=SubjectExport, responses=EXPORT_RESPONSES)
async def export_subject(
    subject_id: uuid.UUID, session: SessionDep, principal: SubjectExporter
) -> SubjectExport:
    """Everything held about one person (subject access request); the export is audited."""
    return await subject_access.export(session, principal, subject_id)
