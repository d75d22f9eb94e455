"""Dates of things that have already happened."""

from datetime import date
from typing import Annotated

from pydantic import AfterValidator


def _not_in_future(value: date) -> date:
    if value > date.today():
        raise ValueError("cannot be in the future: record it once it has happened")
    return value


# A day on which something was done or found: today or earlier.
HappenedOn = Annotated[date, AfterValidator(_not_in_future)]
