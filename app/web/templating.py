"""The Jinja environment with GOV.UK Frontend's macros, and rendering a page."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.config import get_settings
from app.db import utcnow
from app.models.consent import DataCategory
from app.models.directory import Purpose
from app.models.identity import Scope
from app.models.referral import ReferralStatus
from app.web import absence, consent_words, govuk_text, i18n, kept_forms, labels, language
from app.web.forms import Form
from app.web.i18n import N_, Nn_
from app.web.security import csrf_token, presession_cookie_name, set_cookie

if TYPE_CHECKING:
    from app.web.auth import Viewer

UK = ZoneInfo("Europe/London")
# The time left, said by the timeout warning's script in the page's language.
MINUTES = Nn_("%(num)s minute", "%(num)s minutes")
SECONDS = Nn_("%(num)s second", "%(num)s seconds")


def _locale() -> str:
    return i18n.current_locale()


def format_date(value: date | datetime | None) -> str:
    """A date as GOV.UK writes it: 2 December 2026 (UK time for a moment)."""
    if value is None:
        return ""
    day = value.astimezone(UK).date() if isinstance(value, datetime) else value
    return babel_date(day, "d MMMM y", locale=_locale())


def format_last_day_away(away_until: datetime | None) -> str:
    """The last day someone is away, as GOV.UK writes a date (`away_until` is when they are back)."""
    return format_date(absence.last_day_away(away_until)) if away_until else ""


def format_time(value: datetime) -> str:
    """A time as GOV.UK writes it: 10:15am, in UK time."""
    return babel_time(value.astimezone(UK), "h:mma", locale=_locale()).lower()


def format_datetime(value: datetime | None) -> str:
    """2 December 2026 at 10:15am."""
    if value is None:
        return ""
    return i18n.gettext("%(date)s at %(time)s", date=format_date(value), time=format_time(value))


def error_message(form: Form | None, name: str) -> dict[str, str] | None:
    """A GOV.UK component's `errorMessage` for the field, if it has a problem."""
    message = form.errors.get(name) if form else None
    return {"text": message} if message else None


def value_of(form: Form | None, name: str, default: object = "") -> object:
    """What the field held when the form was last shown."""
    return form.values.get(name, default) if form else default


NAVIGATION = (
    ("/inbox", N_("Inbox"), Scope.REFERRALS_READ),
    ("/sent", N_("Sent referrals"), Scope.REFERRALS_READ),
    ("/follow-ups", N_("Follow-ups"), Scope.REFERRALS_READ),
    ("/referrals/new", N_("Make a referral"), Scope.REFERRALS_WRITE),
    ("/directory", N_("Directory"), None),
    ("/admin", N_("Your agency"), Scope.REPORTS_READ),
    ("/audit", N_("Audit"), Scope.AUDIT_READ),
    ("/settings", N_("Settings"), None),
)


def navigation(viewer: "Viewer | None", path: str) -> list[dict[str, object]]:
    """The service navigation for what the signed-in user may use."""
    if viewer is None:
        return []
    items: list[dict[str, object]] = []
    for href, text, scope in NAVIGATION:
        if scope is None or (viewer.can(scope) and (scope == Scope.AUDIT_READ or viewer.agency_name)):
            current = path == href or (path.startswith(href + "/") and href != "/referrals/new")
            items.append({"href": href, "text": i18n.gettext(text), "active": current})
    return items


def timeout_warning(viewer: "Viewer", request: Request) -> dict[str, Any]:
    """What the timeout warning on a signed-in page needs: the time left, when to warn, its words."""
    settings = get_settings()
    return {
        "seconds_left": max(0, int((viewer.idle_deadline - utcnow()).total_seconds())),
        "warn_seconds": settings.web_idle_warning_minutes * 60,
        "idle_minutes": settings.web_idle_timeout_minutes,
        "minutes": i18n.plural_forms(*MINUTES),
        "seconds": i18n.plural_forms(*SECONDS),
        # Back to this page after signing in again; the path only (a query may hold a search).
        "signed_out": f"/sign-in?reason=idle&next={quote(request.url.path, safe='/')}",
    }


def _joined(codes: Iterable[Any], names: Mapping[Any, str]) -> str:
    """Codes as words, in the request's language; a code with no words of its own as it stands."""
    return ", ".join(i18n.gettext(names[c]) if c in names else str(c).replace("_", " ") for c in codes)


def purposes_text(codes: Iterable[Purpose]) -> str:
    return _joined(codes, labels.PURPOSES)


def categories_text(codes: Iterable[DataCategory]) -> str:
    return _joined(codes, labels.DATA_CATEGORIES)


def named(record: Any) -> str:
    """An agency's or service's name in the page's language: its Welsh name on a Welsh page, if it has one."""
    welsh = _locale() == "cy" and getattr(record, "name_cy", None)
    return str(welsh or record.name)


def described(service: Any) -> str:
    """A service's description in the page's language, where it has one in it."""
    welsh = _locale() == "cy" and getattr(service, "description_cy", None)
    return str(welsh or service.description or "")


def nhs_number_text(digits: str) -> str:
    """An NHS number as it is written and read out: 943 476 5919."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def reason_label(status: ReferralStatus, code: str) -> str:
    """The words for a decline or cancellation reason (the code itself if it is another kind)."""
    names: Mapping[Any, str] = (
        labels.DECLINE_REASONS if status == ReferralStatus.DECLINED else labels.CANCEL_REASONS
    )
    return i18n.gettext(names[code]) if code in names else code.replace("_", " ")


# Messages take named placeholders, _("Due %(date)s", date=...); autoescaping applies as usual.
GLOBALS: dict[str, Any] = {
    "_": i18n.gettext,
    "gettext": i18n.gettext,
    "ngettext": i18n.ngettext,
    "labels": labels,
    "labelled": _joined,
    "navigation": navigation,
    "timeout_warning": timeout_warning,
    "reason_label": reason_label,
    "err": error_message,
    "val": value_of,
    "govuk_text": govuk_text.with_text,
    "consent_words": consent_words.spoken_in,
}
FILTERS: dict[str, Any] = {
    "date": format_date,
    "last_day_away": format_last_day_away,
    "time": format_time,
    "datetime": format_datetime,
    "purposes": purposes_text,
    "categories": categories_text,
    "nhs_number": nhs_number_text,
    "named": named,
    "described": described,
}


@lru_cache
def environment() -> Environment:
    """Our templates first, then GOV.UK Frontend's macros under `govuk_frontend_jinja/`."""
    loader = ChoiceLoader(
        [
            PackageLoader("app.web", "templates"),
            # GOV.UK Frontend's macros; those with words of their own are wrapped by ours above, which
            # call the originals by this second name.
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_original": PackageLoader("govuk_frontend_jinja"),
                }
            ),
        ]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(GLOBALS)
    env.filters.update(FILTERS)
    return env


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page in the request's language, with its form token and the signed-in user."""
    i18n.activate(language.choose(request))
    values = {
        "request": request,
        "viewer": getattr(request.state, "viewer", None),
        "csrf_token": csrf_token(request),
        "html_lang": i18n.current_locale(),
        "language_switch": language.switch(request),
        **(context or {}),
    }
    if status == 200 and getattr(request.state, "kept_form", None) is not None:
        values["form"] = kept_forms.filled_in(request, values.get("form"))
        values["kept_form"] = True
    response = HTMLResponse(environment().get_template(name).render(values), status_code=status)
    kept_forms.set_cookies(request, response)
    language.remember(request, response, get_settings().secure_cookies)
    new_presession = getattr(request.state, "new_presession", None)
    if new_presession:
        settings = get_settings()
        set_cookie(response, presession_cookie_name(settings), new_presession, settings)
    return response
