"""Records as another directory's Open Referral UK feed gives them, checked before anything is kept.

What the UK profile requires of the records an import uses is required here too (a service's
`id`, `name` and `status`; an organization's `id`, `name` and `description`; a location's `id`
and `location_type`; an address's lines, town, county, postcode, country and type), with the ids
an import keys on as UUIDs. Anything else a feed carries is ignored.
"""

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.openreferral.schema import LocationType, ServiceStatus


def _list(value: Any) -> Any:
    return [] if value is None else value  # a feed may send null for an empty list


Text = Annotated[str, Field(min_length=1)]


class FeedRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class FeedTranslation(FeedRecord):
    language: str
    name: str | None = None
    description: str | None = None


Translations = Annotated[list[FeedTranslation], BeforeValidator(_list)]


class FeedOrganization(FeedRecord):
    id: uuid.UUID
    name: Text
    description: str
    translations: Translations = Field(default_factory=list)


class FeedTerm(FeedRecord):
    id: str
    name: str
    description: str
    code: str | None = None
    term: str | None = None
    term_uri: str | None = None


class FeedAttribute(FeedRecord):
    id: str
    taxonomy_term_id: str | None = None
    taxonomy_term: FeedTerm | None = None


class FeedAddress(FeedRecord):
    id: str
    address_1: Text
    address_2: str | None = None
    city: Text
    state_province: str
    postal_code: Text
    country: str
    address_type: LocationType


class FeedLocation(FeedRecord):
    id: uuid.UUID
    location_type: LocationType
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    addresses: Annotated[list[FeedAddress], BeforeValidator(_list)] = Field(default_factory=list)


class FeedServiceAtLocation(FeedRecord):
    id: str
    location: FeedLocation | None = None


class FeedLanguage(FeedRecord):
    id: str
    code: str | None = None
    name: str | None = None


class FeedServiceArea(FeedRecord):
    id: str
    name: str | None = None
    service_area: str | None = None


class FeedSchedule(FeedRecord):
    id: str
    description: str | None = None


class FeedService(FeedRecord):
    id: uuid.UUID
    name: Text
    status: ServiceStatus
    description: str | None = None
    eligibility_description: str | None = None
    organization_id: uuid.UUID | None = None
    organization: FeedOrganization | None = None
    service_at_locations: Annotated[list[FeedServiceAtLocation], BeforeValidator(_list)] = Field(
        default_factory=list
    )
    attributes: Annotated[list[FeedAttribute], BeforeValidator(_list)] = Field(default_factory=list)
    languages: Annotated[list[FeedLanguage], BeforeValidator(_list)] = Field(default_factory=list)
    service_areas: Annotated[list[FeedServiceArea], BeforeValidator(_list)] = Field(default_factory=list)
    schedules: Annotated[list[FeedSchedule], BeforeValidator(_list)] = Field(default_factory=list)
    translations: Translations = Field(default_factory=list)


class ListedRecord(FeedRecord):
    """A service as a list page gives it: its id is all an import needs from there."""

    id: uuid.UUID
