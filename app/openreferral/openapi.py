"""The feed's own OpenAPI document, made from its routes: paths relative to the feed's address,
as Open Referral UK's own document writes them, and errors as problem documents."""

from functools import lru_cache
from typing import Any

from fastapi.openapi.utils import get_openapi

from app.openapi import describe_problems
from app.openreferral.publish import PREFIX, Feed

DESCRIPTION = """The referral exchange's directory of agencies and services, published read-only as
[Open Referral UK](https://openreferraluk.org/) (HSDS 3.0 with the UK profile). No token is needed:
it holds no personal data.

Besides the profile's fields it publishes `translations` (a record's name and description in
Welsh, `language` `cy`) and, on services, `accepting_referrals` (whether the exchange takes
referrals for it now; services that do not are still listed, for signposting). Purposes are the
terms of a taxonomy of the exchange's own (`/taxonomies`)."""


@lru_cache
def _document(base_url: str) -> dict[str, Any]:
    from app.openreferral.router import router  # the routes import this module

    document = get_openapi(
        title="Referral exchange directory (Open Referral UK)",
        version="3.0",
        description=DESCRIPTION,
        routes=[r for r in router.routes if getattr(r, "path", "") != f"{PREFIX}/openapi.json"],
        servers=[{"url": base_url}],
    )
    document["paths"] = {path.removeprefix(PREFIX) or "/": ops for path, ops in document["paths"].items()}
    return describe_problems(document)


def feed_document(feed: Feed) -> dict[str, Any]:
    """The document for the feed at `feed`'s address (built once per address)."""
    return _document(feed.base_url)
