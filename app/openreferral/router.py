"""The read-only Open Referral UK feed at `/openreferral/v3`: no token (the directory holds no
personal data), open to any web page (`Access-Control-Allow-Origin: *`, see `headers`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.config import get_settings
from app.deps import SessionDep
from app.openreferral import catalogue
from app.openreferral.openapi import feed_document
from app.openreferral.publish import PREFIX, Feed
from app.openreferral.schema import (
    About,
    ListedService,
    Organization,
    OrganizationFull,
    Page,
    ServiceAtLocation,
    ServiceFull,
    Taxonomy,
    TaxonomyTerm,
)

PROFILE = "https://docs.openreferraluk.org/en/latest/"
# Left out of the /v1 document where it is included (main.py); it has a document of its own.
router = APIRouter(prefix=PREFIX, tags=["Open Referral UK"])

PageParam = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPageParam = Annotated[
    int, Query(ge=1, le=1000, description="Records a page holds (at most MAX_PAGE_SIZE, 200 by default).")
]
SearchParam = Annotated[
    str | None, Query(max_length=200, description="Words in the name or description, in English or Welsh.")
]
TermParam = Annotated[
    str | None, Query(max_length=100, description="Services with this taxonomy term (a purpose).")
]
TaxonomyParam = Annotated[
    str | None, Query(max_length=100, description="Services with any term of this taxonomy.")
]
PostcodeParam = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Services covering this postcode; with `proximity`, measured from its centroid.",
    ),
]
ProximityParam = Annotated[
    float | None, Query(description="Metres from the postcode's centroid to a service's location.")
]


def _feed() -> Feed:
    return Feed.at(get_settings().public_base_url)


def _query(page: int, per_page: int, **given: Any) -> catalogue.Query:
    return catalogue.Query(page=page, per_page=min(per_page, get_settings().max_page_size), **given)


@router.get("/", response_model=About)
async def about() -> About:
    """This feed's version of HSDS, its profile, and its OpenAPI document."""
    feed = _feed()
    return About(version="3.0", profile=PROFILE, openapi_url=feed.uri("openapi.json"))


@router.get("/openapi.json")
async def openapi() -> dict[str, Any]:
    """The feed's own OpenAPI document (the exchange's /v1 API has its own)."""
    return feed_document(_feed())


@router.get("/services", response_model=Page[ListedService], response_model_exclude_none=True)
async def services(
    session: SessionDep,
    search: SearchParam = None,
    page: PageParam = 1,
    per_page: PerPageParam = 50,
    taxonomy_term_id: TermParam = None,
    taxonomy_id: TaxonomyParam = None,
    postcode: PostcodeParam = None,
    proximity: ProximityParam = None,
) -> Page[ListedService]:
    """Services by name; with `postcode` and `proximity`, those within reach, nearest first."""
    query = _query(
        page,
        per_page,
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        postcode=postcode,
        proximity=proximity,
    )
    return await catalogue.services(session, _feed(), query)


@router.get("/services/{id}", response_model=ServiceFull, response_model_exclude_none=True)
async def service(id: str, session: SessionDep) -> ServiceFull:
    """A service with its organization, locations, contacts, languages, areas and purposes."""
    return await catalogue.service(session, _feed(), id)


@router.get("/service_at_locations", response_model=Page[ServiceAtLocation], response_model_exclude_none=True)
async def service_at_locations(
    session: SessionDep,
    search: SearchParam = None,
    page: PageParam = 1,
    per_page: PerPageParam = 50,
    taxonomy_term_id: TermParam = None,
    taxonomy_id: TaxonomyParam = None,
    postcode: PostcodeParam = None,
    proximity: ProximityParam = None,
) -> Page[ServiceAtLocation]:
    """Each service at each of its locations; with `postcode` and `proximity`, nearest first."""
    query = _query(
        page,
        per_page,
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        postcode=postcode,
        proximity=proximity,
    )
    return await catalogue.service_at_locations(session, query)


@router.get("/service_at_locations/{id}", response_model=ServiceAtLocation, response_model_exclude_none=True)
async def service_at_location(id: str, session: SessionDep) -> ServiceAtLocation:
    """A service at one of its locations."""
    return await catalogue.service_at_location(session, id)


@router.get("/organizations", response_model=Page[Organization], response_model_exclude_none=True)
async def organizations(
    session: SessionDep, page: PageParam = 1, per_page: PerPageParam = 50
) -> Page[Organization]:
    """The agencies offering services, by name."""
    return await catalogue.organizations(session, _feed(), page, min(per_page, get_settings().max_page_size))


@router.get("/organizations/{id}", response_model=OrganizationFull, response_model_exclude_none=True)
async def organization(id: str, session: SessionDep) -> OrganizationFull:
    """An agency with the services it offers."""
    return await catalogue.organization(session, _feed(), id)


@router.get("/taxonomies", response_model=Page[Taxonomy], response_model_exclude_none=True)
async def taxonomies(page: PageParam = 1, per_page: PerPageParam = 50) -> Page[Taxonomy]:
    """The taxonomies the directory's terms come from: its own, of referral purposes."""
    return catalogue.taxonomies(_feed(), page, per_page)


@router.get("/taxonomies/{id}", response_model=Taxonomy, response_model_exclude_none=True)
async def taxonomy(id: str) -> Taxonomy:
    """A taxonomy with its terms."""
    return catalogue.taxonomy(_feed(), id)


@router.get("/taxonomy_terms", response_model=Page[TaxonomyTerm], response_model_exclude_none=True)
async def taxonomy_terms(
    page: PageParam = 1, per_page: PerPageParam = 50, taxonomy_id: TaxonomyParam = None
) -> Page[TaxonomyTerm]:
    """The purposes, as taxonomy terms."""
    return catalogue.taxonomy_terms(_feed(), page, min(per_page, get_settings().max_page_size), taxonomy_id)


@router.get("/taxonomy_terms/{id}", response_model=TaxonomyTerm, response_model_exclude_none=True)
async def taxonomy_term(id: str) -> TaxonomyTerm:
    """One purpose, as a taxonomy term."""
    return catalogue.taxonomy_term(_feed(), id)
