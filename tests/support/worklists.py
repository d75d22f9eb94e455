"""Referrals for the list pages' tests, and reading a list page's references."""

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.referral_helpers import Network, create_referral, subject_body
from tests.support.web_support import api


async def refer_people(app: FastAPI, net: Network, *people: tuple[str, str], **overrides: Any) -> list[str]:
    """A referral from the children's centre to debt advice for each person; their references."""
    made, details = [], overrides.pop("subject", {})
    async with api(app) as partner:
        for given, family in people:
            subject = subject_body(given_name=given, family_name=family) | details
            made.append((await create_referral(partner, net, subject=subject, **overrides))["reference"])
    return made


def references_in(page: httpx.Response) -> list[str]:
    """The references a list page links to, in order."""
    return re.findall(r'href="/referrals/[0-9a-f-]+">(RX-[A-Z0-9-]+)</a>', page.text)
