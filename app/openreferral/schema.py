"""The records the directory publishes, shaped as HSDS 3.0 with the Open Referral UK profile.

Field names, required fields, enumerations and formats follow the profile's compiled schemas
(OpenReferralUK/uk-profile, schema/compiled/*.json). Where HSDS's core schema has a field the UK
profile leaves out (a language's `code` and `name`, a taxonomy term's `code` and `language`, a
contact's `email`, `eligibility_description`), it is still published: HSDS lets a publication
carry more than its profile defines. So do the exchange's own additions, documented in
docs/directory.md: `translations` (Welsh names and descriptions) and `accepting_referrals`.
Fields without a value are left out rather than sent as null.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Uri = Annotated[str, Field(json_schema_extra={"format": "uri"})]
T = TypeVar("T")


class Record(BaseModel):
    model_config = ConfigDict(use_enum_values=True)


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class LocationType(StrEnum):
    PHYSICAL = "physical"
    POSTAL = "postal"
    VIRTUAL = "virtual"


class Translation(Record):
    """The record's words in another language (the exchange's addition: HSDS has no field for it)."""

    language: str = Field(description="ISO 639-1 code, `cy` for Welsh", examples=["cy"])
    name: str | None = None
    description: str | None = None


class TaxonomyTerm(Record):
    id: uuid.UUID
    name: str
    description: str
    code: str | None = None
    term: str | None = None
    taxonomy: str | None = None
    taxonomy_id: uuid.UUID | None = None
    term_uri: Uri | None = None
    language: str | None = None
    translations: list[Translation] | None = None


class Taxonomy(Record):
    id: uuid.UUID
    name: str
    description: str
    uri: Uri | None = None
    version: str | None = None
    taxonomy_terms: list[TaxonomyTerm] | None = None


class Attribute(Record):
    id: uuid.UUID
    link_id: uuid.UUID
    link_type: str
    link_entity: str
    taxonomy_term_id: uuid.UUID
    taxonomy_term: TaxonomyTerm


class Language(Record):
    id: uuid.UUID
    service_id: uuid.UUID
    name: str
    code: str


class ServiceArea(Record):
    id: uuid.UUID
    service_id: uuid.UUID
    name: str
    service_area: str
    extent_type: str | None = None


class Contact(Record):
    id: uuid.UUID
    service_id: uuid.UUID
    name: str
    title: str | None = None
    email: str | None = None


class Schedule(Record):
    id: uuid.UUID
    service_id: uuid.UUID
    description: str


class Address(Record):
    id: uuid.UUID
    location_id: uuid.UUID
    address_1: str
    city: str
    state_province: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2 code", examples=["GB"])
    address_type: LocationType


class Location(Record):
    id: uuid.UUID
    location_type: LocationType
    name: str
    latitude: float | None = None
    longitude: float | None = None
    addresses: list[Address] = Field(default_factory=list)


class Organization(Record):
    id: uuid.UUID
    name: str
    description: str
    uri: Uri | None = None
    translations: list[Translation] | None = None


class ServiceSummary(Record):
    """A service's one-to-one fields, as lists show it."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    description: str | None = None
    eligibility_description: str | None = None
    email: str | None = None
    status: ServiceStatus
    last_modified: datetime
    accepting_referrals: bool = Field(description="Whether the exchange takes referrals for it now")
    translations: list[Translation] | None = None


class ListedService(ServiceSummary):
    organization: Organization


class OrganizationFull(Organization):
    services: list[ServiceSummary] = Field(default_factory=list)


class ServiceAtLocation(Record):
    id: uuid.UUID
    service_id: uuid.UUID
    location_id: uuid.UUID
    location: Location
    service: ServiceSummary | None = None


class ServiceFull(ListedService):
    service_at_locations: list[ServiceAtLocation]
    contacts: list[Contact]
    languages: list[Language]
    service_areas: list[ServiceArea]
    schedules: list[Schedule]
    attributes: list[Attribute]


class Page(BaseModel, Generic[T]):
    total_items: int
    total_pages: int
    page_number: int
    size: int = Field(description="How many records this page holds")
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[T]


class About(BaseModel):
    version: str
    profile: Uri
    openapi_url: Uri
