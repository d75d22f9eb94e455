"""Where a service is offered, on its admin page: one block of fields per location and one empty
block to add another, read back into the locations the directory service keeps.

Fields are numbered by block (`location_postcode-0`). A form without `locations_shown` changes
no locations, so a post from an older copy of the page leaves them as they are.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.models.directory import Service
from app.models.locations import LocationIn
from app.web.forms import Form
from app.web.i18n import N_, gettext

MAX_BLOCKS = 50
TEXT_FIELDS = ("name", "address_1", "address_2", "town", "postcode", "latitude", "longitude")
REQUIRED = ("name", "address_1", "town", "postcode")


@dataclass(frozen=True, slots=True)
class Block:
    """One location's fields as the page shows them."""

    index: int
    id: str
    values: dict[str, str]


def blocks(service: Service, form: Form | None) -> list[Block]:
    """The blocks to show: as posted when the page comes back with errors, else the service's
    locations and an empty one."""
    if form is not None and form.get("locations_shown"):
        return [_posted(form, i) for i in range(_count(form))]
    shown = [_stored(i, location) for i, location in enumerate(service.locations)]
    return [*shown, Block(len(shown), "", dict.fromkeys(TEXT_FIELDS, ""))]


def _stored(index: int, location: Any) -> Block:
    values = {
        name: "" if getattr(location, name) is None else str(getattr(location, name)) for name in TEXT_FIELDS
    }
    return Block(index, str(location.id), values)


def _posted(form: Form, index: int) -> Block:
    values = {name: form.get(f"location_{name}-{index}") for name in TEXT_FIELDS}
    return Block(index, form.get(f"location_id-{index}"), values)


def _count(form: Form) -> int:
    count = form.get("location_count")
    return min(int(count), MAX_BLOCKS + 1) if count.isdigit() else 0


def read(form: Form) -> list[dict[str, Any]] | None:
    """The locations the form asks for (None: the form did not show them), noting each problem
    against its field."""
    if not form.get("locations_shown"):
        return None
    wanted = []
    for index in range(_count(form)):
        block = _posted(form, index)
        if form.get(f"location_remove-{index}") == "yes" or not any(block.values.values()):
            continue
        location = _location(form, block)
        if location is not None:
            wanted.append(location)
    return wanted


MESSAGES = {
    "name": N_("Enter the name of the place"),
    "address_1": N_("Enter the first line of the address"),
    "town": N_("Enter the town or city"),
    "postcode": N_("Enter the postcode"),
}
COORDINATES = N_("Enter both latitude and longitude as numbers, like 53.04 and -2.99, or neither")
PROBLEMS = {
    "postcode": N_("Enter a full postcode, like LL13 9AA"),
    "latitude": COORDINATES,
    "longitude": COORDINATES,
    "id": N_("This location has been removed; reload the page"),
}


def _location(form: Form, block: Block) -> dict[str, Any] | None:
    for name in REQUIRED:
        if not block.values[name]:
            form.add(f"location_{name}-{block.index}", gettext(MESSAGES[name]))
    if any(not block.values[name] for name in REQUIRED):
        return None
    given: dict[str, Any] = {**block.values, "id": block.id or None}
    for name in ("latitude", "longitude"):
        given[name] = block.values[name] or None
    try:
        return LocationIn.model_validate(given).model_dump(mode="json", exclude={"external_id"})
    except ValidationError as exc:
        _explain(form, block.index, exc)
        return None


def _explain(form: Form, index: int, error: ValidationError) -> None:
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "latitude"
        message = PROBLEMS.get(field) or gettext("Enter at most 200 characters")
        form.add(f"location_{field}-{index}", gettext(message))
