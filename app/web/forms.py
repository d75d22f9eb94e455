"""Reading posted forms and turning problems into GOV.UK error messages.

A field's error is shown twice, as GOV.UK asks: in the error summary at the top of the page,
linking to the field, and above the field itself.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.errors import AppError
from app.web.i18n import gettext

UK = ZoneInfo("Europe/London")
# The page a form was on, which every form carries beside its token (see `kept_forms`); it is
# bookkeeping, not something typed, and no handler reads it.
SENT_FROM = "sent_from"


@dataclass
class Form:
    """What was posted (to show again) and what is wrong with it, field by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    # Where an error's link goes when its field is on another page (a section of check answers).
    pages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data: FormData) -> "Form":
        values = {k: v.strip() for k, v in data.items() if isinstance(v, str) and k != SENT_FROM}
        lists = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data if k != SENT_FROM}
        return cls(values=values, lists=lists)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def add(self, name: str, message: str) -> None:
        """Note the first problem with a field (GOV.UK shows one message per field)."""
        self.errors.setdefault(name, message)

    def require(self, name: str, message: str) -> str:
        """The field's value, noting `message` when it is empty."""
        value = self.get(name)
        if not value:
            self.add(name, message)
        return value

    def choice(self, name: str, allowed: Mapping[Any, str], message: str) -> str:
        """One of the radio options offered, or `message`."""
        value = self.get(name)
        if value not in {str(k) for k in allowed}:
            self.add(name, message)
        return value

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> list[dict[str, str]]:
        """The error summary's items, each linking to its field."""
        return [
            {"text": message, "href": self.pages.get(name, f"#{anchor(name)}")}
            for name, message in self.errors.items()
        ]


def anchor(name: str) -> str:
    """The id of the input an error links to (a date's first box is its day)."""
    return f"{name}-day" if name.endswith("date") else name


def read_date(
    form: Form, name: str, what: str, *, past: bool | None = None, enter: str | None = None
) -> date | None:
    """A GOV.UK date input (`<name>-day`, `-month`, `-year`), with GOV.UK's error wording."""
    parts = [form.get(f"{name}-{p}") for p in ("day", "month", "year")]
    if not any(parts):
        form.add(name, enter or gettext("Enter %(what)s", what=what))
        return None
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        form.add(name, gettext("%(what)s must be a real date", what=what.capitalize()))
        return None
    try:
        value = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        form.add(name, gettext("%(what)s must be a real date", what=what.capitalize()))
        return None
    return _in_range(form, name, what, value, past)


def _in_range(form: Form, name: str, what: str, value: date, past: bool | None) -> date | None:
    today = datetime.now(UK).date()
    if past is True and value > today:
        form.add(name, gettext("%(what)s must be today or in the past", what=what.capitalize()))
        return None
    if past is False and value < today:
        form.add(name, gettext("%(what)s must be today or in the future", what=what.capitalize()))
        return None
    return value


def read_time(form: Form, name: str) -> time | None:
    """A time typed as 14:30, 2:30pm or 9am."""
    raw = form.get(name).lower().replace(".", ":").replace(" ", "")
    if not raw:
        form.add(name, gettext("Enter a time"))
        return None
    for pattern in ("%H:%M", "%I:%M%p", "%I%p"):
        try:
            return datetime.strptime(raw, pattern).time()
        except ValueError:
            continue
    form.add(name, gettext("Enter a time like 9:30am or 14:30"))
    return None


def uk_moment(day: date, at: time) -> datetime:
    """A date and time as said in the UK, as an aware moment."""
    return datetime.combine(day, at, tzinfo=UK)


def from_problem(form: Form, error: AppError, fields: Mapping[str, str], fallback: str) -> None:
    """Show a service's refusal against the fields it names (`fields` maps its names to ours)."""
    for item in error.errors or [{"field": "", "message": error.detail}]:
        name = fields.get(item.get("field", ""), fallback)
        form.add(name, _sentence(item.get("message", error.detail)))


def from_validation(
    form: Form,
    error: ValidationError,
    fields: Mapping[str, str],
    fallback: str,
    *,
    first_part: Mapping[str, str] | None = None,
) -> None:
    """Show a model's validation errors against the fields they concern.

    `fields` maps a full path to a field; with `first_part`, a path's first part that is one of
    the form's own fields (or is renamed there) names the field.
    """
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"])
        head = str(item["loc"][0]) if item["loc"] else ""
        named = fields.get(path) or ((first_part or {}).get(head, head) if first_part is not None else None)
        form.add(named or fallback, _sentence(item["msg"].removeprefix("Value error, ")))


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] if message else message
