"""The demo network: five agencies of a Wrexham pilot, each with two caseworkers, an agency
admin and an API client; an auditor and a platform admin; and sample referrals between the
agencies (see `demo_referrals`). Safe to run again: existing records are kept, none is made
twice, and the demo credentials are reset, so what it prints always works."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.audit import ActorKind, AuditActor
from app.models.directory import Agency, AgencyCreate, AgencyKind, Purpose, Service, ServiceCreate
from app.models.identity import ApiClient, Role, Scope, User
from app.security import hash_secret
from app.services import demo_referrals, directory, identity

SYSTEM = AuditActor(kind=ActorKind.SYSTEM, id="seed-demo")
STAFF = (("caseworker", Role.CASEWORKER), ("caseworker2", Role.CASEWORKER), ("admin", Role.AGENCY_ADMIN))
CLIENT_SCOPES = [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE, Scope.REPORTS_READ, Scope.WEBHOOKS_MANAGE]


@dataclass(frozen=True)
class DemoAgency:
    slug: str
    name: str
    kind: AgencyKind
    service: str
    purposes: tuple[Purpose, ...]
    target_days: int
    # The agency's and the service's Welsh names: the directory is bilingual.
    name_cy: str = ""
    service_cy: str = ""
    languages: tuple[str, ...] = ("en", "cy")


DEMO_AGENCIES = (
    DemoAgency(
        "jcp",
        "Wrexham Jobcentre Plus",
        AgencyKind.JOBCENTRE_PLUS,
        "Work coach and better-off calculations",
        (
            Purpose.BETTER_OFF_CALCULATION,
            Purpose.WORK_FOCUSED_INTERVIEW,
            Purpose.JOB_SEARCH_SUPPORT,
            Purpose.BENEFITS_ADVICE,
        ),
        5,
        "Canolfan Byd Gwaith Wrecsam",
        "Anogwr gwaith a chyfrifiadau gwell eich byd",
    ),
    DemoAgency(
        "cc",
        "Caia Park Children's Centre",
        AgencyKind.CHILDRENS_CENTRE,
        "Family support and childcare",
        (Purpose.FAMILY_SUPPORT, Purpose.CHILDCARE_SUPPORT, Purpose.ESOL),
        10,
        "Canolfan Blant Parc Caia",
        "Cymorth i deuluoedd a gofal plant",
    ),
    DemoAgency(
        "cf",
        "Communities First Wrexham",
        AgencyKind.COMMUNITIES_FIRST,
        "Employability and training",
        (Purpose.TRAINING_AND_SKILLS, Purpose.VOLUNTEERING, Purpose.JOB_SEARCH_SUPPORT, Purpose.ESOL),
        10,
        "Cymunedau yn Gyntaf Wrecsam",
        "Cyflogadwyedd a hyfforddiant",
        ("en",),  # works in English only: a Welsh speaker referred there is told before it is sent
    ),
    DemoAgency(
        "hv",
        "Wrexham Health Visiting Team",
        AgencyKind.HEALTH_VISITING,
        "Health visiting",
        (Purpose.HEALTH_VISITING, Purpose.MENTAL_HEALTH_SUPPORT, Purpose.FAMILY_SUPPORT),
        5,
        "Tîm Ymwelwyr Iechyd Wrecsam",
        "Ymweliadau iechyd",
    ),
    DemoAgency(
        "debt",
        "North Wales Debt Advice",
        AgencyKind.DEBT_ADVICE,
        "Debt and money advice",
        (Purpose.DEBT_ADVICE, Purpose.BENEFITS_ADVICE, Purpose.HOUSING_SUPPORT),
        5,
        "Cyngor ar Ddyledion Gogledd Cymru",
        "Cyngor ar ddyledion ac arian",
    ),
)


def demo_password(username: str) -> str:
    """Demo-only, published credentials (seeding is refused in production)."""
    return f"{username}-demo-pass"


async def seed_demo(session: AsyncSession, *, sample_referrals: bool = True) -> dict[str, Any]:
    """Create or refresh the demo network, with its sample referrals, and return its logins."""
    result: dict[str, Any] = {"agencies": [], "services": [], "users": [], "clients": []}
    agencies: dict[str, Agency] = {}
    services: dict[str, Service] = {}
    for demo in DEMO_AGENCIES:
        agency = agencies[demo.slug] = await _agency(session, demo)
        service = services[demo.slug] = await _service(session, agency, demo)
        result["agencies"].append({"id": str(agency.id), "name": agency.name, "kind": agency.kind.value})
        result["services"].append({"id": str(service.id), "agency_id": str(agency.id), "name": service.name})
        for suffix, role in STAFF:
            result["users"].append(await _user(session, f"{demo.slug}.{suffix}", role, agency))
        result["clients"].append(await _client(session, demo, agency))
    for username, role in (("auditor", Role.AUDITOR), ("admin", Role.PLATFORM_ADMIN)):
        result["users"].append(await _user(session, username, role, None))
    if sample_referrals:
        await demo_referrals.seed(session, agencies, services)
    return result


async def _agency(session: AsyncSession, demo: DemoAgency) -> Agency:
    found = (await session.execute(select(Agency).where(col(Agency.name) == demo.name))).scalars().first()
    if found:
        found.name_cy = found.name_cy or demo.name_cy  # a network seeded before it had Welsh names
        return found
    body = AgencyCreate(
        name=demo.name,
        name_cy=demo.name_cy,
        kind=demo.kind,
        local_authority="Wrexham",
        contact_email=f"{demo.slug}@example.org",
    )
    return await directory.create_agency(session, SYSTEM, body)


async def _service(session: AsyncSession, agency: Agency, demo: DemoAgency) -> Service:
    query = select(Service).where(col(Service.agency_id) == agency.id, col(Service.name) == demo.service)
    found = (await session.execute(query)).scalars().first()
    if found:
        return found
    body = ServiceCreate(
        agency_id=agency.id,
        name=demo.service,
        name_cy=demo.service_cy,
        purposes=list(demo.purposes),
        description=f"{demo.service} from {demo.name}.",
        description_cy=f"{demo.service_cy} gan {demo.name_cy}.",
        area_served=["LL11", "LL12", "LL13", "LL14"],
        languages=list(demo.languages),
        response_target_days=demo.target_days,
    )
    return await directory.create_service(session, SYSTEM, body)


async def _user(session: AsyncSession, username: str, role: Role, agency: Agency | None) -> dict[str, Any]:
    password = demo_password(username)
    found = (await session.execute(select(User).where(col(User.username) == username))).scalar_one_or_none()
    if found:
        found.password_hash = hash_secret(password)
    else:
        await identity.create_user(
            session,
            SYSTEM,
            username=username,
            password=password,
            role=role,
            agency_id=agency.id if agency else None,
            display_name=_display_name(username, agency),
            email=f"{username}@example.org",
        )
    return {
        "username": username,
        "password": password,
        "agency_id": str(agency.id) if agency else None,
        "role": role.value,
    }


def _display_name(username: str, agency: Agency | None) -> str:
    who = username.rpartition(".")[2].replace("caseworker2", "second caseworker").replace("_", " ")
    return f"{agency.name} {who}" if agency else who.capitalize()


async def _client(session: AsyncSession, demo: DemoAgency, agency: Agency) -> dict[str, Any]:
    client_id, secret = f"demo-{demo.slug}", f"demo-{demo.slug}-client-secret"
    query = select(ApiClient).where(col(ApiClient.client_id) == client_id)
    found = (await session.execute(query)).scalar_one_or_none()
    if found:
        found.secret_hash = hash_secret(secret)
    else:
        await identity.create_client(
            session,
            SYSTEM,
            client_id=client_id,
            secret=secret,
            name=f"{demo.name} case system",
            agency_id=agency.id,
            scopes=CLIENT_SCOPES,
        )
    return {
        "client_id": client_id,
        "client_secret": secret,
        "agency_id": str(agency.id),
        "scopes": [s.value for s in CLIENT_SCOPES],
    }
