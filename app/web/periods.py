"""A period chosen with two GOV.UK date inputs, "Date from" and "Date to", both optional.

Dates are days in the UK: a period runs from midnight UK time at the start of its first day to
midnight at the end of its last, so a day means what staff mean by it whatever the season.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.web.forms import Form, read_date
from app.web.i18n import N_, gettext
from app.web.templating import format_date

UK = ZoneInfo("Europe/London")
PARTS = ("day", "month", "year")
PART_WORDS = {"day": N_("day"), "month": N_("month"), "year": N_("year")}
FIELDS = {"from": N_("Date from"), "to": N_("Date to")}


@dataclass(frozen=True, slots=True)
class Period:
    """From the start of `start` to the end of `end` (either may be open)."""

    start: date | None = None
    end: date | None = None

    @property
    def empty(self) -> bool:
        return self.start is None and self.end is None

    def since(self) -> datetime | None:
        return datetime.combine(self.start, time.min, tzinfo=UK) if self.start else None

    def until(self) -> datetime | None:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UK) if self.end else None

    def params(self) -> dict[str, str]:
        """The period as query parameters (ISO dates), for links and downloads."""
        chosen = {"from": self.start, "to": self.end}
        return {name: day.isoformat() for name, day in chosen.items() if day is not None}

    def in_order(self) -> bool:
        return self.start is None or self.end is None or self.start <= self.end


@dataclass
class PeriodInput:
    """The period typed, if it is valid, and which boxes of each date to show in error."""

    period: Period | None
    highlight: dict[str, list[str]] = field(default_factory=dict)


def read_period(form: Form) -> PeriodInput:
    """Both dates, with GOV.UK's error wording; an empty date leaves that end of the period open."""
    highlight: dict[str, list[str]] = {}
    start = _read_day(form, "from", highlight, past=True)
    end = _read_day(form, "to", highlight, past=None)
    if start and end and end < start:
        when = format_date(start)
        form.add("to", gettext("Date to must be the same as or after %(date)s", date=when))
        highlight["to"] = list(PARTS)
        form.pages["to"] = "#to-day"
    return PeriodInput(Period(start, end) if form.ok else None, highlight)


def _read_day(form: Form, name: str, highlight: dict[str, list[str]], *, past: bool | None) -> date | None:
    parts = {part: form.get(f"{name}-{part}") for part in PARTS}
    if not any(parts.values()):
        return None
    what = gettext(FIELDS[name])
    missing = [part for part in PARTS if not parts[part]]
    if missing:
        form.add(name, _must_include(what, [gettext(PART_WORDS[part]) for part in missing]))
        highlight[name], form.pages[name] = missing, f"#{name}-{missing[0]}"
        return None
    found = read_date(form, name, what.lower(), past=past)
    if found is None:
        highlight[name], form.pages[name] = list(PARTS), f"#{name}-day"
    return found


def _must_include(what: str, missing: list[str]) -> str:
    """GOV.UK's message for an incomplete date, naming the boxes left empty (one or two)."""
    if len(missing) == 1:
        return gettext("%(what)s must include a %(part)s", what=what, part=missing[0])
    return gettext(
        "%(what)s must include a %(first)s and a %(second)s", what=what, first=missing[0], second=missing[1]
    )
