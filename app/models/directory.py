"""Agencies and the services they offer (the directory)."""

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, EmailStr, field_validator
from sqlmodel import Field, Relationship, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.models.locations import LocationIn, LocationPublic, ServiceLocation


class AgencyKind(StrEnum):
    JOBCENTRE_PLUS = "jobcentre_plus"
    CHILDRENS_CENTRE = "childrens_centre"
    COMMUNITIES_FIRST = "communities_first"
    HEALTH_VISITING = "health_visiting"
    DEBT_ADVICE = "debt_advice"
    CITIZENS_ADVICE = "citizens_advice"
    TRAINING_PROVIDER = "training_provider"
    CHILDCARE = "childcare"
    HOUSING = "housing"
    OTHER = "other"


class Purpose(StrEnum):
    BETTER_OFF_CALCULATION = "better_off_calculation"
    WORK_FOCUSED_INTERVIEW = "work_focused_interview"
    JOB_SEARCH_SUPPORT = "job_search_support"
    TRAINING_AND_SKILLS = "training_and_skills"
    ESOL = "esol"
    CHILDCARE_SUPPORT = "childcare_support"
    DEBT_ADVICE = "debt_advice"
    BENEFITS_ADVICE = "benefits_advice"
    HOUSING_SUPPORT = "housing_support"
    HEALTH_VISITING = "health_visiting"
    FAMILY_SUPPORT = "family_support"
    VOLUNTEERING = "volunteering"
    DOMESTIC_ABUSE_SUPPORT = "domestic_abuse_support"
    MENTAL_HEALTH_SUPPORT = "mental_health_support"
    OTHER = "other"


EXTERNAL_ID = "Its id in another directory (an Open Referral UK id, say): imports find it by this"


class AgencyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    name_cy: str | None = Field(default=None, max_length=200, description="The agency's name in Welsh")
    kind: AgencyKind = Field(sa_type=enum_type(AgencyKind))
    local_authority: str = Field(min_length=1, max_length=120)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=40)
    ods_code: str | None = Field(
        default=None,
        max_length=10,
        description="The agency's NHS Organisation Data Service code, where it is an NHS organisation",
    )
    external_id: str | None = Field(default=None, min_length=1, max_length=200, description=EXTERNAL_ID)


class Agency(AgencyBase, table=True):
    __tablename__ = "agencies"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


class AgencyCreate(AgencyBase):
    @field_validator("ods_code")
    @classmethod
    def _ods_code(cls, value: str | None) -> str | None:
        code = value.strip().upper() if value else None
        if code is not None and not ODS_CODE.fullmatch(code):
            raise ValueError("an ODS code is 3 to 10 letters and digits, such as RX1 or Y02494")
        return code


class AgencyUpdate(SQLModel):
    """What may change in an agency's entry; only the fields given are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_cy: str | None = Field(default=None, max_length=200)
    kind: AgencyKind | None = None
    local_authority: str | None = Field(default=None, min_length=1, max_length=120)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)


class AgencyPublic(AgencyBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


# A postcode area (`LL`) or district, the outward code (`LL13`, `CF10`, `EC1A`).
AREA_CODE = re.compile(r"^[A-Z]{1,2}([0-9][0-9A-Z]?)?$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def _area_codes(values: list[str]) -> list[str]:
    codes = [v.strip().upper() for v in values]
    bad = [c for c in codes if not AREA_CODE.match(c)]
    if bad:
        raise ValueError(f"postcode areas or districts such as LL or LL13, not {', '.join(bad)}")
    return sorted(set(codes))


def _language_codes(values: list[str]) -> list[str]:
    codes = [v.strip().lower() for v in values]
    bad = [c for c in codes if not LANGUAGE_CODE.match(c)]
    if bad:
        raise ValueError(f"language codes such as en or cy, not {', '.join(bad)}")
    return list(dict.fromkeys(codes))


AreaCodes = Annotated[list[str], AfterValidator(_area_codes)]
LanguageCodes = Annotated[list[str], AfterValidator(_language_codes)]


class ServiceFields(SQLModel):
    """What an agency keeps up to date about a service it offers."""

    description: str = Field(default="", max_length=4000)
    description_cy: str | None = Field(default=None, max_length=4000, description="The description in Welsh")
    eligibility: str = Field(default="", max_length=4000)
    languages: LanguageCodes = Field(default_factory=lambda: ["en"], sa_type=JSONType)
    # Postcode areas and districts served; empty: everywhere.
    area_served: AreaCodes = Field(default_factory=list, sa_type=JSONType)
    accepting_referrals: bool = True
    response_target_days: int = Field(default=10, ge=1, le=365)
    # The team's shared address: new referrals are announced there rather than to each caseworker.
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    opening_hours: str = Field(default="", max_length=500)


class ServiceBase(ServiceFields):
    name: str = Field(min_length=1, max_length=200)
    name_cy: str | None = Field(default=None, max_length=200, description="The service's name in Welsh")
    external_id: str | None = Field(default=None, min_length=1, max_length=200, description=EXTERNAL_ID)


class ServicePurpose(SQLModel, table=True):
    """One purpose a service accepts; a row each so the directory can be filtered by purpose."""

    __tablename__ = "service_purposes"

    service_id: uuid.UUID = Field(foreign_key="services.id", primary_key=True, ondelete="CASCADE")
    purpose: Purpose = Field(primary_key=True, index=True, sa_type=enum_type(Purpose))


class Service(ServiceBase, table=True):
    __tablename__ = "services"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    # Name, description and eligibility folded to lower case without accents, for `q`.
    search_text: str = Field(default="", max_length=9000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    purpose_links: list[ServicePurpose] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"}
    )
    locations: list[ServiceLocation] = Relationship(
        sa_relationship_kwargs={
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
            "order_by": "ServiceLocation.position",
        }
    )

    @property
    def purposes(self) -> list[Purpose]:
        return sorted(link.purpose for link in self.purpose_links)


class ServiceCreate(ServiceBase):
    agency_id: uuid.UUID
    purposes: list[Purpose] = Field(min_length=1)
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)


class ServiceUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_cy: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    description_cy: str | None = Field(default=None, max_length=4000)
    eligibility: str | None = Field(default=None, max_length=4000)
    languages: LanguageCodes | None = None
    area_served: AreaCodes | None = None
    accepting_referrals: bool | None = None
    response_target_days: int | None = Field(default=None, ge=1, le=365)
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    opening_hours: str | None = Field(default=None, max_length=500)
    purposes: list[Purpose] | None = Field(default=None, min_length=1)
    external_id: str | None = Field(default=None, min_length=1, max_length=200, description=EXTERNAL_ID)
    # The service's places, all of them: one with the id of a present location changes the fields
    # given of it, the others are added, and present ones not named are removed.
    locations: list[LocationIn] | None = Field(default=None, max_length=50)


class ServicePublic(ServiceBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    purposes: list[Purpose]
    locations: list[LocationPublic]
    created_at: datetime
    updated_at: datetime
