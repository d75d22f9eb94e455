"""Absence as staff say it (the last day someone is away) and as the service keeps it (the moment
they are back, `away_until`): one conversion each way, so what is shown is what was entered.

A member of staff whose last day away is 20 December is away until the start of 21 December, UK
time; they are shown as "away until 20 December", the day they are last away.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def back_at(last_day: date) -> datetime:
    """The moment someone away up to and including `last_day` is back: the next UK midnight."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UK)


def last_day_away(away_until: datetime) -> date:
    """The last UK day on which someone away until `away_until` is away (the day before they are
    back, when they are back at midnight; the same day when they are back during it)."""
    return (away_until.astimezone(UK) - timedelta(microseconds=1)).date()
