"""Which taxonomy terms of an imported directory mean which purpose, from a file the operator can
edit (the default ships beside this module as purposes.json)."""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.models.directory import AgencyKind, Purpose
from app.openreferral.feed import FeedError
from app.openreferral.records import FeedAttribute
from app.services.directory import fold
from app.web import labels

DEFAULT_MAPPING = Path(__file__).resolve().parent / "purposes.json"


class MappingFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    purposes: dict[Purpose, list[str]] = Field(default_factory=dict)
    unmatched: Purpose = Purpose.OTHER
    agency_kind: AgencyKind = AgencyKind.OTHER
    local_authority: str = Field(default="Not known", min_length=1, max_length=120)


class Mapping:
    """Terms to purposes, matched on a term's id, code, term, name or URI, case and accents aside."""

    def __init__(self, loaded: MappingFile) -> None:
        self.unmatched = loaded.unmatched
        self.agency_kind = loaded.agency_kind
        self.local_authority = loaded.local_authority
        self.terms: dict[str, Purpose] = {}
        for purpose in Purpose:  # a purpose's own code and name always mean it
            self.terms.update({fold(purpose.value): purpose, fold(labels.PURPOSES[purpose]): purpose})
        for purpose, terms in loaded.purposes.items():
            self.terms.update({fold(term): purpose for term in terms})

    def purposes(self, attributes: list[FeedAttribute]) -> list[Purpose]:
        """The purposes a service's taxonomy terms mean (`unmatched` when none means any)."""
        found = {p for a in attributes for key in _keys(a) if (p := self.terms.get(fold(key)))}
        return sorted(found) or [self.unmatched]


def _keys(attribute: FeedAttribute) -> list[str]:
    term = attribute.taxonomy_term
    keys = [attribute.taxonomy_term_id or ""]
    if term is not None:
        keys += [term.id, term.code or "", term.term or "", term.name, term.term_uri or ""]
    return [k for k in keys if k]


def load(path: Path | None = None) -> Mapping:
    """The mapping in `path` (the shipped one by default), or a FeedError saying what is wrong."""
    where = path or DEFAULT_MAPPING
    try:
        return Mapping(MappingFile.model_validate(json.loads(where.read_text(encoding="utf-8"))))
    except OSError as exc:
        raise FeedError(f"cannot read the mapping file {where}: {exc.strerror or exc}") from None
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            raise FeedError(f"the mapping file {where} is not valid: {problems}") from None
        raise FeedError(f"the mapping file {where} is not JSON: {exc}") from None
