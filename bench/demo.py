"""The demo network as `referral-exchange seed-demo --json` prints it, and requests against it."""

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

Demo = dict[str, Any]


def load(path: Path) -> Demo:
    loaded: Demo = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def agency_id(demo: Demo, slug: str) -> str:
    user = next(u for u in demo["users"] if u["username"] == f"{slug}.caseworker")
    return str(user["agency_id"])


def service_id(demo: Demo, slug: str) -> str:
    owner = agency_id(demo, slug)
    return str(next(s["id"] for s in demo["services"] if s["agency_id"] == owner))


async def token(http: httpx.AsyncClient, demo: Demo, slug: str) -> str:
    """A caseworker's access token (password grant)."""
    return await user_token(http, demo, f"{slug}.caseworker")


async def user_token(http: httpx.AsyncClient, demo: Demo, username: str) -> str:
    """A demo user's access token (password grant)."""
    user = next(u for u in demo["users"] if u["username"] == username)
    form = {"grant_type": "password", "username": user["username"], "password": user["password"]}
    response = await http.post("/v1/oauth/token", data=form)
    response.raise_for_status()
    return str(response.json()["access_token"])


async def client_token(http: httpx.AsyncClient, demo: Demo, slug: str) -> str:
    """A partner system's access token (client credentials) with every scope it was granted."""
    client = next(c for c in demo["clients"] if c["agency_id"] == agency_id(demo, slug))
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scope": " ".join(client["scopes"]),
    }
    response = await http.post("/v1/oauth/token", data=form)
    response.raise_for_status()
    return str(response.json()["access_token"])


def referral_body(to_service_id: str, purpose: str) -> dict[str, Any]:
    """A consented referral for a person no other request has named (so never a duplicate)."""
    family = f"Bench{uuid.uuid4().hex[:12]}"
    return {
        "to_service_id": to_service_id,
        "purpose": purpose,
        "reason": "Lone parent preparing to return to work; wants help with the household budget.",
        "urgency": "soon",
        "handover_mode": "warm_introduction",
        "subject": {
            "given_name": "Natalie",
            "family_name": family,
            "date_of_birth": "1994-03-02",
            "postcode": "LL13 9AA",
            "phone": "07700900123",
            "preferred_contact": "phone",
            "language": "en",
            "circumstances": {"lone_parent": True, "benefits": ["universal_credit"], "barriers": ["debt"]},
        },
        "consent": {
            "given_by": "subject",
            "method": "verbal",
            "given_at": "2026-11-20T10:15:00Z",
            "lawful_basis": "consent",
            "purposes": [purpose],
            "data_categories": ["contact", "circumstances"],
        },
    }
