"""Consents: read by the agencies relying on them, and withdrawn when the person asks."""

import uuid

from fastapi import APIRouter

from app.deps import ReferralReader, ReferralWriter, SessionDep
from app.errors import Responses
from app.models.consent import ConsentPublic, ConsentWithdrawal, ConsentWithdrawalResult
from app.services import consents

router = APIRouter(prefix="/v1/consents", tags=["consents"])
NOT_FOUND: Responses = {404: {"description": "No such consent, or the caller's agency does not rely on it"}}


@router.get("/{consent_id}", response_model=ConsentPublic, responses=NOT_FOUND)
async def get_consent(consent_id: uuid.UUID, session: SessionDep, principal: ReferralReader) -> ConsentPublic:
    """One consent: whether it is in force, until when, and what it covers that your agency relies on."""
    return await consents.read(session, principal, consent_id)


@router.post(
    "/{consent_id}/withdraw",
    response_model=ConsentWithdrawalResult,
    responses={**NOT_FOUND, 409: {"description": "Already withdrawn"}},
)
async def withdraw_consent(
    consent_id: uuid.UUID, body: ConsentWithdrawal, session: SessionDep, principal: ReferralWriter
) -> ConsentWithdrawalResult:
    """Withdraw consent: every open referral under it moves to `withdrawn`; your agency's are listed."""
    return await consents.withdraw(session, principal, consent_id, body)
