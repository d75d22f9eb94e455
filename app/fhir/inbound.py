"""Reading what a partner sends: each resource checked by its R4 model, faults named by FHIRPath.

A fault in a request is a 422, as in /v1, whose `field` is the FHIRPath of the element at fault
(`Bundle.entry[0].resource.birthDate`): the OperationOutcome names it in `expression`.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import Unprocessable
from app.fhir import wire
from app.fhir.shapes import Json

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of a request, and where it sits in it (`Bundle.entry[2].resource`)."""

    resource: Json
    at: str
    full_url: str = ""

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType"))


def required(where: str, message: str) -> Unprocessable:
    """A 422 naming the element at fault."""
    return Unprocessable.field(where, message)


def single(value: Any, where: str, what: str) -> Json:
    """The one item of a list that must hold exactly one."""
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise required(where, f"exactly one: {what}")
    found: Json = value[0]
    return found


def fhirpath(at: str, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location below `at` as a FHIRPath expression (below nothing: a /v1 field name)."""
    if not at:
        return ".".join(str(part) for part in loc) or "body"
    return at + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def checked(entry: Entry) -> None:
    """Refuse a resource its R4 model does not accept, naming each element at fault."""
    try:
        wire.check(entry.resource)
    except ValidationError as exc:
        raise _invalid(entry.at, exc) from None


def _invalid(at: str, exc: ValidationError) -> Unprocessable:
    errors = [
        {"field": fhirpath(at, tuple(e["loc"])), "message": e["msg"].removeprefix("Value error, ")}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Unprocessable(summary, errors=errors)


def as_model(model: type[M], values: Json) -> M:
    """The service's request model from translated values; a fault names the /v1 field (then mapped)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _invalid("", exc) from None
