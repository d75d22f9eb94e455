"""The exchange's directory entries as Open Referral UK records (see `schema`).

What maps to what, and why, is in docs/directory.md. No personal data is published: an
agency's named contact, email and phone are left out; a service's team address is published
as its email, since it is the service's own shared inbox.
"""

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from app.models.directory import Agency, AgencyKind, Purpose, Service
from app.models.locations import ServiceLocation
from app.openreferral import ids
from app.openreferral.schema import (
    Address,
    Attribute,
    Contact,
    Language,
    ListedService,
    Location,
    LocationType,
    Organization,
    OrganizationFull,
    Page,
    Schedule,
    ServiceArea,
    ServiceAtLocation,
    ServiceFull,
    ServiceStatus,
    ServiceSummary,
    T,
    Taxonomy,
    TaxonomyTerm,
    Translation,
)
from app.services.places import Point
from app.web import labels
from app.web.i18n import available_locales, translations

PREFIX = "/openreferral/v3"
WELSH = "cy"
PURPOSE_TAXONOMY = "Referral exchange purposes"


@dataclass(frozen=True, slots=True)
class Feed:
    """Where the feed is published, for the URIs its records carry."""

    base_url: str

    @classmethod
    def at(cls, public_base_url: str) -> "Feed":
        return cls(public_base_url.rstrip("/") + PREFIX)

    def uri(self, *parts: object) -> str:
        return "/".join([self.base_url, *(str(p) for p in parts)])


def welsh(name: str | None, description: str | None = None) -> list[Translation] | None:
    """The Welsh words of a record, as the `translations` the exchange adds (None: there are none)."""
    if not (name or description):
        return None
    return [Translation(language=WELSH, name=name or None, description=description or None)]


def organization(agency: Agency, feed: Feed) -> Organization:
    kind = labels.AGENCY_KINDS[agency.kind]
    what = "Organisation" if agency.kind == AgencyKind.OTHER else kind
    return Organization(
        id=agency.id,
        name=agency.name,
        description=f"{what} in {agency.local_authority}",
        uri=feed.uri("organizations", agency.id),
        translations=welsh(agency.name_cy),
    )


def organization_full(agency: Agency, services: Sequence[Service], feed: Feed) -> OrganizationFull:
    return OrganizationFull(**dict(organization(agency, feed)), services=[summary(s) for s in services])


def summary(service: Service) -> ServiceSummary:
    """A service's one-to-one fields. Every listed service is `active`: one not taking referrals
    for now still runs, and is published for signposting."""
    return ServiceSummary(
        id=service.id,
        organization_id=service.agency_id,
        name=service.name,
        description=service.description or None,
        eligibility_description=service.eligibility or None,
        email=service.contact_email,
        status=ServiceStatus.ACTIVE,
        last_modified=service.updated_at,
        accepting_referrals=service.accepting_referrals,
        translations=welsh(service.name_cy, service.description_cy),
    )


def listed(service: Service, agency: Agency, feed: Feed) -> ListedService:
    return ListedService(**dict(summary(service)), organization=organization(agency, feed))


def full(service: Service, agency: Agency, places: dict[uuid.UUID, Point], feed: Feed) -> ServiceFull:
    """A service with everything linked to it, as `/services/{id}` publishes it."""
    return ServiceFull(
        **dict(listed(service, agency, feed)),
        service_at_locations=[at_location(loc, agency, places) for loc in service.locations],
        contacts=_contacts(service, agency),
        languages=[_language(service.id, code) for code in service.languages],
        service_areas=[_area(service.id, code) for code in service.area_served],
        schedules=_schedules(service),
        attributes=[_purpose_attribute(service.id, p, feed) for p in service.purposes],
    )


def at_location(
    location: ServiceLocation,
    agency: Agency,
    places: dict[uuid.UUID, Point],
    service: Service | None = None,
) -> ServiceAtLocation:
    """A service at one of its locations: the row's id is the service-at-location's."""
    return ServiceAtLocation(
        id=location.id,
        service_id=location.service_id,
        location_id=ids.location_id(location.id),
        location=_location(location, agency, places.get(location.id)),
        service=summary(service) if service else None,
    )


def _location(location: ServiceLocation, agency: Agency, place: Point | None) -> Location:
    published_id = ids.location_id(location.id)
    lines = ", ".join(line for line in (location.address_1, location.address_2) if line)
    address = Address(
        id=ids.derived("address", location.id),
        location_id=published_id,
        address_1=lines,
        city=location.town,
        # The UK has no states: the local authority of the agency offering the service stands in.
        state_province=agency.local_authority,
        postal_code=location.postcode,
        country="GB",
        address_type=LocationType.PHYSICAL,
    )
    return Location(
        id=published_id,
        location_type=LocationType.PHYSICAL,
        name=location.name,
        latitude=_rounded(place.latitude) if place else None,
        longitude=_rounded(place.longitude) if place else None,
        addresses=[address],
    )


def _rounded(degrees: float) -> float:
    # Six decimal places is about 11 cm: finer is noise, and it keeps the feed stable.
    return math.floor(degrees * 1e6 + 0.5) / 1e6


def _contacts(service: Service, agency: Agency) -> list[Contact]:
    """The service's team, when it has a shared address: a role, never a named person."""
    if not service.contact_email:
        return []
    return [
        Contact(
            id=ids.derived("contact", service.id),
            service_id=service.id,
            name=f"{service.name} team",
            title=f"Referrals, {agency.name}",
            email=service.contact_email,
        )
    ]


def _language(service_id: uuid.UUID, code: str) -> Language:
    return Language(
        id=ids.derived("language", service_id, code),
        service_id=service_id,
        name=_language_name(code),
        code=code,
    )


@lru_cache
def _language_name(code: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def _area(service_id: uuid.UUID, code: str) -> ServiceArea:
    """An area served: a postcode district (LL13) or a whole postcode area (LL)."""
    kind = "district" if any(c.isdigit() for c in code) else "area"
    return ServiceArea(
        id=ids.derived("service_area", service_id, code),
        service_id=service_id,
        name=code,
        service_area=f"Postcode {kind} {code}",
    )


def _schedules(service: Service) -> list[Schedule]:
    if not service.opening_hours:
        return []
    return [
        Schedule(
            id=ids.derived("schedule", service.id), service_id=service.id, description=service.opening_hours
        )
    ]


def _purpose_attribute(service_id: uuid.UUID, purpose: Purpose, feed: Feed) -> Attribute:
    term = purpose_term(purpose, feed)
    return Attribute(
        id=ids.derived("attribute", service_id, purpose.value),
        link_id=service_id,
        link_type="purpose",
        link_entity="service",
        taxonomy_term_id=term.id,
        taxonomy_term=term,
    )


def purpose_term(purpose: Purpose, feed: Feed) -> TaxonomyTerm:
    """A purpose as a term of the exchange's own taxonomy, with its Welsh name when the Welsh
    catalogue has one."""
    name = labels.PURPOSES[purpose]
    term_id = ids.purpose_term_id(purpose)
    return TaxonomyTerm(
        id=term_id,
        name=name,
        description=f"Referrals for {name[0].lower()}{name[1:]}"
        if purpose != Purpose.OTHER
        else "Other referrals",
        code=purpose.value,
        term=purpose.value,
        taxonomy=PURPOSE_TAXONOMY,
        taxonomy_id=ids.PURPOSE_TAXONOMY_ID,
        term_uri=feed.uri("taxonomy_terms", term_id),
        language="en",
        translations=_welsh_label(name),
    )


def _welsh_label(english: str) -> list[Translation] | None:
    if WELSH not in available_locales():
        return None
    text = translations(WELSH).gettext(english)
    return welsh(text) if text != english else None


def purpose_terms(feed: Feed) -> list[TaxonomyTerm]:
    return [purpose_term(p, feed) for p in Purpose]


def purpose_taxonomy(feed: Feed, *, with_terms: bool) -> Taxonomy:
    return Taxonomy(
        id=ids.PURPOSE_TAXONOMY_ID,
        name=PURPOSE_TAXONOMY,
        description="What a service takes referrals for: the purposes a referral can have.",
        uri=feed.uri("taxonomies", ids.PURPOSE_TAXONOMY_ID),
        version="1",
        taxonomy_terms=purpose_terms(feed) if with_terms else None,
    )


def page(contents: list[T], *, total: int, page_number: int, per_page: int) -> Page[T]:
    """One page of a list, with the counts Open Referral's page shape carries."""
    total_pages = max(1, math.ceil(total / per_page))
    return Page[T](
        total_items=total,
        total_pages=total_pages,
        page_number=page_number,
        size=len(contents),
        first_page=page_number == 1,
        last_page=page_number >= total_pages,
        empty=not contents,
        contents=contents,
    )
