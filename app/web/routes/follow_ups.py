"""Follow-ups: the agency's checks that a person kept their job, and people to take back once a
referral closes; recording what each found, or putting it off, through the API's own service."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.deps import SessionDep
from app.errors import AppError, Conflict, Forbidden
from app.models.follow_up import (
    STATED_RESULTS,
    FollowUpCompletion,
    FollowUpKind,
    FollowUpPublic,
    FollowUpResult,
    FollowUpSnooze,
    FollowUpStatus,
)
from app.models.identity import Scope
from app.models.outcome import OutcomeCreate, OutcomeType
from app.services import follow_ups
from app.web.auth import Caseworker
from app.web.forms import Form, from_problem, read_date
from app.web.i18n import N_, gettext
from app.web.outcome import attempt
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(prefix="/follow-ups")
CursorParam = Annotated[str | None, Query(max_length=500)]
PAGE = "/{follow_up_id:uuid}"

DONE = {"recorded": N_("Result recorded"), "snoozed": N_("Follow-up snoozed")}
UNREACHED = N_("We could not contact them")
# What the result page offers for each kind: the outcomes that answer the check, then what may
# be said instead of an outcome (STATED_RESULTS).
ANSWERS: dict[FollowUpKind, dict[str, str]] = {
    FollowUpKind.JOB_SUSTAINMENT_13_WEEKS: {
        OutcomeType.JOB_SUSTAINED_13_WEEKS: N_("Yes, they are still in work after 13 weeks"),
        OutcomeType.JOB_NOT_SUSTAINED: N_("No, they are no longer in the job"),
        FollowUpResult.UNABLE_TO_CONTACT: UNREACHED,
    },
    FollowUpKind.JOB_SUSTAINMENT_26_WEEKS: {
        OutcomeType.JOB_SUSTAINED_26_WEEKS: N_("Yes, they are still in work after 26 weeks"),
        OutcomeType.JOB_NOT_SUSTAINED: N_("No, they are no longer in the job"),
        FollowUpResult.UNABLE_TO_CONTACT: UNREACHED,
    },
    FollowUpKind.RESUME_SUPPORT: {
        FollowUpResult.SUPPORT_RESUMED: N_("We have taken them back and resumed our support"),
        FollowUpResult.UNABLE_TO_CONTACT: UNREACHED,
    },
}
PROBLEM_FIELDS = {"result": "answer", "outcome": "answer", "outcome.type": "answer", "due_on": "date"}


async def _writer(who: Caseworker) -> SignedIn:
    if not who.principal.has(Scope.REFERRALS_WRITE):
        raise Forbidden("This account cannot record follow-ups.")
    return who


Writer = Annotated[SignedIn, Depends(_writer)]


@router.get("")
async def follow_ups_page(
    request: Request,
    session: SessionDep,
    who: Caseworker,
    due: CursorParam = None,
    upcoming: CursorParam = None,
) -> Response:
    """The agency's follow-ups due now and coming up, soonest first, each linking its referral."""
    return await _list(request, session, who, (due, upcoming))


async def _list(
    request: Request,
    session: SessionDep,
    who: SignedIn,
    cursors: tuple[str | None, str | None] = (None, None),
    refusal: AppError | None = None,
    status: int = 200,
) -> Response:
    """Due and upcoming follow-ups, each list paged on its own; each listing is audited."""
    limit, principal = get_settings().default_page_size, who.principal
    due = await follow_ups.list_own(
        session, principal, status=FollowUpStatus.DUE, cursor=cursors[0], limit=limit
    )
    upcoming = await follow_ups.list_own(
        session, principal, status=FollowUpStatus.UPCOMING, cursor=cursors[1], limit=limit
    )
    done = request.query_params.get("done", "")
    context = {
        "due": due,
        "upcoming": upcoming,
        "cursors": cursors,
        "references": await follow_ups.references_of(session, principal, due.items + upcoming.items),
        "can_write": principal.has(Scope.REFERRALS_WRITE),
        "refusal": refusal,
        "done": gettext(DONE[done]) if done in DONE and refusal is None else None,
    }
    return render(request, "follow_ups/list.html", context, status)


async def _action_page(
    request: Request,
    session: SessionDep,
    who: SignedIn,
    follow_up: FollowUpPublic,
    template: str,
    form: Form | None = None,
) -> Response:
    """The page that records a follow-up's result or snoozes it; a done one has nothing left to do."""
    if follow_up.status is FollowUpStatus.DONE:  # an old link or a second tab
        return RedirectResponse("/follow-ups", status_code=303)
    references = await follow_ups.references_of(session, who.principal, [follow_up])
    context = {
        "follow_up": follow_up,
        "reference": references.get(follow_up.referral_id, ""),
        "answers": ANSWERS[follow_up.kind],
        "form": form,
    }
    return render(request, template, context, 200 if form is None else 400)


async def _after_refusal(
    request: Request, session: SessionDep, who: SignedIn, follow_up_id: uuid.UUID, template: str, form: Form
) -> Response:
    """The form again with the service's reasons; the list, saying so, if it was done meanwhile."""
    follow_up = await follow_ups.get_own(session, who.principal, follow_up_id)
    if follow_up.status is FollowUpStatus.DONE:
        message = gettext("Someone in your team has already recorded the result of that follow-up.")
        return await _list(request, session, who, refusal=Conflict(message), status=409)
    return await _action_page(request, session, who, follow_up, template, form)


# --- recording the result ----------------------------------------------------------------------


@router.get(PAGE + "/result")
async def result_page(
    request: Request, session: SessionDep, who: Writer, follow_up_id: uuid.UUID
) -> Response:
    """What the follow-up found: the answers its kind offers."""
    follow_up = await follow_ups.get_own(session, who.principal, follow_up_id)
    return await _action_page(request, session, who, follow_up, "follow_ups/result.html")


def _completion(form: Form, kind: FollowUpKind) -> FollowUpCompletion | None:
    """The API's completion body for the answer chosen: an outcome dated today, or a stated result."""
    answer = form.choice("answer", ANSWERS[kind], gettext("Select what you found"))
    if not form.ok:
        return None
    if answer in {r.value for r in STATED_RESULTS}:
        return FollowUpCompletion(result=FollowUpResult(answer))
    return FollowUpCompletion(outcome=OutcomeCreate(type=OutcomeType(answer), occurred_on=date.today()))


@router.post(PAGE + "/result")
async def record_result(
    request: Request, session: SessionDep, who: Writer, follow_up_id: uuid.UUID
) -> Response:
    """Complete the follow-up; an outcome goes on the referral, where both agencies see it."""
    form = Form.read(await request.form())
    follow_up = await follow_ups.get_own(session, who.principal, follow_up_id)
    body = _completion(form, follow_up.kind)
    if body is None:
        return await _action_page(request, session, who, follow_up, "follow_ups/result.html", form)
    done = await attempt(session, follow_ups.complete(session, who.principal, follow_up_id, body))
    if not isinstance(done, AppError):
        return RedirectResponse("/follow-ups?done=recorded", status_code=303)
    from_problem(form, done, PROBLEM_FIELDS, "answer")
    return await _after_refusal(request, session, who, follow_up_id, "follow_ups/result.html", form)


# --- snoozing ----------------------------------------------------------------------------------


@router.get(PAGE + "/snooze")
async def snooze_page(
    request: Request, session: SessionDep, who: Writer, follow_up_id: uuid.UUID
) -> Response:
    """A new due date, and why it can wait."""
    follow_up = await follow_ups.get_own(session, who.principal, follow_up_id)
    return await _action_page(request, session, who, follow_up, "follow_ups/snooze.html")


def _snooze(form: Form) -> FollowUpSnooze | None:
    day = read_date(form, "date", gettext("the new due date"), past=False)
    if len(form.get("note")) > 2000:
        form.add("note", gettext("Note must be 2000 characters or fewer"))
    if day is None or not form.ok:
        return None
    return FollowUpSnooze(due_on=day, note=form.get("note") or None)


@router.post(PAGE + "/snooze")
async def snooze(request: Request, session: SessionDep, who: Writer, follow_up_id: uuid.UUID) -> Response:
    """Move the due date; the agency is told again when it falls due."""
    form = Form.read(await request.form())
    body = _snooze(form)
    if body is None:
        follow_up = await follow_ups.get_own(session, who.principal, follow_up_id)
        return await _action_page(request, session, who, follow_up, "follow_ups/snooze.html", form)
    done = await attempt(session, follow_ups.snooze(session, who.principal, follow_up_id, body))
    if not isinstance(done, AppError):
        return RedirectResponse("/follow-ups?done=snoozed", status_code=303)
    from_problem(form, done, PROBLEM_FIELDS, "date")
    return await _after_refusal(request, session, who, follow_up_id, "follow_ups/snooze.html", form)
