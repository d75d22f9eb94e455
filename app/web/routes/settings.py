"""The signed-in user's own settings: how they hear of each kind of notification, and their language."""

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.deps import SessionDep
from app.errors import AppError
from app.models.identity import ALWAYS_SENT, Language, MeUpdate, NotificationChoice, NotificationKind
from app.services import users
from app.web import labels
from app.web.auth import SignedInDep
from app.web.forms import Form, from_problem
from app.web.i18n import gettext
from app.web.outcome import attempt
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter()
# The kinds staff choose how to hear of; notices about their own account are always sent.
CHOOSABLE = tuple(kind for kind in NotificationKind if kind not in ALWAYS_SENT)


def _kinds(who: SignedIn) -> tuple[NotificationKind, ...]:
    """Only agency staff are told of referrals; platform accounts have no notifications to choose."""
    return CHOOSABLE if who.principal.agency_id is not None else ()


async def _page(
    request: Request, session: SessionDep, who: SignedIn, form: Form | None = None, status: int = 200
) -> Response:
    found = await users.me(session, who.principal)
    context = {
        "me": found.user,
        "kinds": _kinds(who),
        "form": form,
        "saved": bool(request.query_params.get("saved")),
    }
    return render(request, "settings.html", context, status)


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep, who: SignedInDep) -> Response:
    """The user's notification preferences and language, as they stand."""
    return await _page(request, session, who)


def _changes(form: Form, kinds: tuple[NotificationKind, ...]) -> MeUpdate | None:
    for kind in kinds:
        form.choice(kind.value, labels.NOTIFICATION_CHOICES, gettext("Select how you want to hear of these"))
    form.choice("language", labels.STAFF_LANGUAGES, gettext("Select the language you want to use"))
    if not form.ok:
        return None
    values: dict[str, object] = {"language": Language(form.get("language"))}
    if kinds:  # left unset otherwise: a null would be refused rather than stored
        values["notification_preferences"] = {
            kind: NotificationChoice(form.get(kind.value)) for kind in kinds
        }
    return MeUpdate.model_validate(values)


@router.post("/settings")
async def save_settings(request: Request, session: SessionDep, who: SignedInDep) -> Response:
    """Save them through the same service as `PATCH /v1/me`."""
    form = Form.read(await request.form())
    body = _changes(form, _kinds(who))
    if body is not None:
        saved = await attempt(session, users.update_self(session, who.principal, body))
        if not isinstance(saved, AppError):
            return RedirectResponse("/settings?saved=1", status_code=303)
        from_problem(form, saved, {"language": "language"}, "language")
    return await _page(request, session, who, form, 400)
