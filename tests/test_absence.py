"""A member of staff's absence: entered and shown as the last day away, kept as the moment they
are back, so the day shown is the day entered, in winter and in summer time."""

from datetime import UTC, date, datetime

import pytest

from app.web.absence import back_at, last_day_away
from app.web.templating import format_last_day_away


@pytest.mark.parametrize(
    ("last_day", "back"),
    [
        (date(2026, 12, 20), datetime(2026, 12, 21, 0, 0, tzinfo=UTC)),  # GMT
        (date(2026, 6, 20), datetime(2026, 6, 20, 23, 0, tzinfo=UTC)),  # BST: midnight is 23:00 UTC
        (date(2026, 3, 28), datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),  # the clocks go forward that night
    ],
)
def test_the_last_day_away_is_kept_as_the_next_uk_midnight_and_shown_as_entered(
    last_day: date, back: datetime
) -> None:
    assert back_at(last_day) == back
    assert last_day_away(back_at(last_day)) == last_day
    assert last_day_away(back) == last_day


def test_someone_away_until_20_december_is_shown_away_until_20_december_not_21() -> None:
    assert format_last_day_away(back_at(date(2026, 12, 20))) == "20 December 2026"
    # Set through the API to a time of day: away for part of that day, which is their last.
    assert format_last_day_away(datetime(2026, 12, 20, 17, 0, tzinfo=UTC)) == "20 December 2026"
    assert format_last_day_away(None) == ""
