"""An imported feed's records as the exchange's directory entries (the reverse of `publish`).

What is kept of a service: its name, description and eligibility, Welsh name and description
(`translations`), opening hours (its schedules' descriptions), languages, postcode areas served,
purposes (through the mapping), and its physical locations with UK postcodes. A feed's email is
not taken as the service's team address: new referrals are announced there, which is for an
admin to decide.
"""

from typing import Any

from app.models.directory import AREA_CODE, LANGUAGE_CODE, Service
from app.models.locations import normal_postcode
from app.openreferral.mapping import Mapping
from app.openreferral.records import FeedAddress, FeedLocation, FeedOrganization, FeedService, FeedTranslation
from app.openreferral.schema import LocationType
from app.services.directory import fold

NAME_LENGTH, TEXT_LENGTH, TOWN_LENGTH, HOURS_LENGTH, MOST_LOCATIONS = 200, 4000, 120, 500, 50
NAMED_LANGUAGES = {"english": "en", "welsh": "cy", "cymraeg": "cy"}
WELSH = "cy"


def fit(text: str | None, limit: int) -> str:
    """`text` within the column's length, cut at a word with an ellipsis if it has to be."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def welsh(translations: list[FeedTranslation]) -> FeedTranslation | None:
    return next((t for t in translations if t.language.strip().lower() in {WELSH, "cym", "wel"}), None)


def agency_fields(organization: FeedOrganization) -> dict[str, Any]:
    """What the exchange keeps of an organization that a later import may change: its names."""
    cy = welsh(organization.translations)
    return {
        "name": fit(organization.name, NAME_LENGTH),
        "name_cy": fit(cy.name, NAME_LENGTH) if cy and cy.name else None,
    }


def service_fields(
    record: FeedService, mapping: Mapping, present: Service | None, notes: list[str]
) -> dict[str, Any]:
    """What the exchange keeps of a feed's service, as the directory service takes it."""
    cy = welsh(record.translations)
    return {
        "name": fit(record.name, NAME_LENGTH),
        "name_cy": fit(cy.name, NAME_LENGTH) if cy and cy.name else None,
        "description": fit(record.description, TEXT_LENGTH),
        "description_cy": fit(cy.description, TEXT_LENGTH) if cy and cy.description else None,
        "eligibility": fit(record.eligibility_description, TEXT_LENGTH),
        "opening_hours": fit(
            "; ".join(s.description for s in record.schedules if s.description), HOURS_LENGTH
        ),
        "languages": languages(record),
        "area_served": areas(record),
        "purposes": mapping.purposes(record.attributes),
        "locations": locations(record, present, notes),
    }


def present_fields(service: Service) -> dict[str, Any]:
    """The same fields as the service has them now, to tell whether an import changes anything."""
    return {
        "name": service.name,
        "name_cy": service.name_cy,
        "description": service.description,
        "description_cy": service.description_cy,
        "eligibility": service.eligibility,
        "opening_hours": service.opening_hours,
        "languages": list(service.languages),
        "area_served": list(service.area_served),
        "purposes": service.purposes,
        "locations": [{**_kept(loc), "id": loc.id} for loc in service.locations],
    }


LOCATION_KEYS = ("name", "address_1", "address_2", "town", "postcode", "latitude", "longitude", "external_id")


def _kept(location: Any) -> dict[str, Any]:
    return {key: getattr(location, key) for key in LOCATION_KEYS}


def same(field: str, wanted: Any, present: Any) -> bool:
    """Whether a field is unchanged (locations by what they say, not by id)."""
    if field != "locations":
        return bool(wanted == present)
    return [{k: loc[k] for k in LOCATION_KEYS} for loc in wanted] == [
        {k: loc[k] for k in LOCATION_KEYS} for loc in present
    ]


def languages(record: FeedService) -> list[str]:
    """Language codes (HSDS `code`, or a name the exchange knows); English when none is given."""
    codes: list[str] = []
    for language in record.languages:
        code = (language.code or "").strip().lower()
        if not LANGUAGE_CODE.match(code):
            code = NAMED_LANGUAGES.get(fold(language.name or ""), "")
        if code and code not in codes:
            codes.append(code)
    return codes or ["en"]


def areas(record: FeedService) -> list[str]:
    """The postcode areas and districts served; areas described otherwise mean everywhere."""
    codes = set()
    for area in record.service_areas:
        words = (area.service_area or "").split()
        for text in (area.name or "", words[-1] if words else ""):
            code = "".join(text.split()).upper()
            if AREA_CODE.match(code):
                codes.add(code)
                break
    return sorted(codes)


def locations(record: FeedService, present: Service | None, notes: list[str]) -> list[dict[str, Any]]:
    """The service's physical locations with UK postcodes; a location an earlier import made keeps
    its id (matched on the feed's location id)."""
    known = {loc.external_id: loc.id for loc in (present.locations if present else []) if loc.external_id}
    found = []
    for at in record.service_at_locations:
        place = at.location
        address = _address(place) if place else None
        if place is None or address is None:
            continue
        postcode = normal_postcode(address.postal_code)
        if postcode is None:
            told = f"{address.postal_code!r} is not a UK postcode"
            notes.append(f"{_named(record)}: location {place.id} left out: {told}")
            continue
        found.append({**_location(place, address, postcode), "id": known.get(str(place.id))})
    if len(found) > MOST_LOCATIONS:
        notes.append(f"{_named(record)}: only the first {MOST_LOCATIONS} of {len(found)} locations kept")
    return found[:MOST_LOCATIONS]


def _address(place: FeedLocation) -> FeedAddress | None:
    """Where people go: the physical address of a physical location."""
    if place.location_type != LocationType.PHYSICAL:
        return None
    return next((a for a in place.addresses if a.address_type == LocationType.PHYSICAL), None)


def _location(place: FeedLocation, address: FeedAddress, postcode: str) -> dict[str, Any]:
    latitude, longitude = place.latitude, place.longitude
    placed = (
        latitude is not None and longitude is not None and -90 <= latitude <= 90 and -180 <= longitude <= 180
    )
    return {
        "name": fit(place.name or address.address_1, NAME_LENGTH),
        "address_1": fit(address.address_1, NAME_LENGTH),
        "address_2": fit(address.address_2, NAME_LENGTH),
        "town": fit(address.city, TOWN_LENGTH),
        "postcode": postcode,
        "latitude": latitude if placed else None,
        "longitude": longitude if placed else None,
        "external_id": str(place.id),
    }


def local_authority(services: list[FeedService], otherwise: str) -> str:
    """An organization's local authority: the county of its first address (the exchange publishes its
    local authority there), else the town, else the mapping's default."""
    for service in services:
        for at in service.service_at_locations:
            for address in at.location.addresses if at.location else []:
                if address.state_province or address.city:
                    return fit(address.state_province or address.city, TOWN_LENGTH)
    return otherwise


def _named(record: FeedService) -> str:
    return f"service {record.name!r} ({record.id})"
