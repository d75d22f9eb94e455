"""Where services are offered, and the postcode centroids a proximity search measures from."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, model_validator
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, utcnow

# A full UK postcode (`LL13 9AA`, `CF10 1EP`, `EC1A 1BB`), with or without its space.
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?) ?([0-9][A-Z]{2})$")


def normal_postcode(text: str) -> str | None:
    """The postcode as Royal Mail writes it (upper case, one space before the inward code), or None."""
    found = POSTCODE.match(" ".join(text.upper().split()))
    return f"{found.group(1)} {found.group(2)}" if found else None


def _postcode(text: str) -> str:
    normal = normal_postcode(text)
    if normal is None:
        raise ValueError("a full UK postcode, such as LL13 9AA")
    return normal


Postcode = Annotated[str, AfterValidator(_postcode)]


class LocationFields(SQLModel):
    """A place a service is offered: where people go, and where a proximity search measures to."""

    name: str = Field(min_length=1, max_length=200, description="What the place is called")
    address_1: str = Field(min_length=1, max_length=200, description="The first line of the address")
    address_2: str = Field(default="", max_length=200, description="The second line, if any")
    town: str = Field(min_length=1, max_length=120)
    postcode: Postcode = Field(max_length=12)
    # Given by the admin or the feed; without them, the postcode's centroid stands in.
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates_or_neither(self) -> "LocationFields":
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class ServiceLocation(LocationFields, table=True):
    __tablename__ = "service_locations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID = Field(foreign_key="services.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    # The location's id in the directory it was imported from.
    external_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LocationIn(LocationFields):
    """A location as a request gives it: with the id of one the service has, that one is changed."""

    id: uuid.UUID | None = None
    external_id: str | None = Field(default=None, max_length=200)


class LocationPublic(LocationFields):
    id: uuid.UUID
    external_id: str | None


class PostcodeCentroid(SQLModel, table=True):
    """The centre of a postcode (ONS Postcode Directory and the like), loaded by the operator."""

    __tablename__ = "postcode_centroids"

    postcode: str = Field(primary_key=True, max_length=12)
    latitude: float
    longitude: float


class DirectorySource(SQLModel, table=True):
    """A directory the worker re-imports daily, and how its last import went."""

    __tablename__ = "directory_sources"

    source: str = Field(primary_key=True, max_length=2000)
    # The day (UTC) a worker last took it on: one import per source per day, however many workers.
    attempted_on: date | None = None
    succeeded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=1000)
    summary: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
