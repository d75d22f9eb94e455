"""Agencies and the services they offer (the directory)."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr
from sqlmodel import Field, Relationship, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow


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


class AgencyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    kind: AgencyKind = Field(sa_type=enum_type(AgencyKind))
    local_authority: str = Field(min_length=1, max_length=120)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=40)


class Agency(AgencyBase, table=True):
    __tablename__ = "agencies"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgencyCreate(AgencyBase):
    pass


class AgencyPublic(AgencyBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ServiceBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    eligibility: str = Field(default="", max_length=4000)
    languages: list[str] = Field(default_factory=lambda: ["en"], sa_type=JSONType)
    area_served: str = Field(default="", max_length=500)
    accepting_referrals: bool = True
    response_target_days: int = Field(default=10, ge=1, le=365)


class ServicePurpose(SQLModel, table=True):
    """One purpose a service accepts; a row each so the directory can be filtered by purpose."""

    __tablename__ = "service_purposes"

    service_id: uuid.UUID = Field(foreign_key="services.id", primary_key=True, ondelete="CASCADE")
    purpose: Purpose = Field(primary_key=True, index=True, sa_type=enum_type(Purpose))


class Service(ServiceBase, table=True):
    __tablename__ = "services"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    purpose_links: list[ServicePurpose] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"}
    )

    @property
    def purposes(self) -> list[Purpose]:
        return sorted(link.purpose for link in self.purpose_links)


class ServiceCreate(ServiceBase):
    agency_id: uuid.UUID
    purposes: list[Purpose] = Field(min_length=1)


class ServicePublic(ServiceBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    purposes: list[Purpose]
    created_at: datetime
    updated_at: datetime
