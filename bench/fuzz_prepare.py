"""Ready the fuzzing server: one referral from Jobcentre Plus into the children's centre inbox.

Writes a schemathesis configuration that pins the path identifiers to real records (so the
fuzzer reaches the referral logic instead of a 404), and prints a token for the receiving
agency's partner system, whose scopes also open the report and webhook routes.
"""

import asyncio
import json
import sys
from pathlib import Path

import httpx

from bench import demo as demo_network


async def prepare(demo: demo_network.Demo, base_url: str) -> tuple[str, dict[str, str]]:
    """The receiving partner system's token, and the identifiers to pin."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        sender = {"Authorization": f"Bearer {await demo_network.token(http, demo, 'jcp')}"}
        body = demo_network.referral_body(demo_network.service_id(demo, "cc"), "family_support")
        created = (await http.post("/v1/referrals", json=body, headers=sender)).raise_for_status().json()
        receiver = await demo_network.client_token(http, demo, "cc")
    pins = {
        "path.referral_id": created["id"],
        "path.consent_id": created["consent_id"],
        "path.subject_id": created["subject"]["id"],
        "path.agency_id": demo_network.agency_id(demo, "cc"),
        "path.service_id": demo_network.service_id(demo, "cc"),
    }
    return receiver, pins


def main(demo_file: str, base_url: str, config_file: str) -> None:
    token, pins = asyncio.run(prepare(demo_network.load(Path(demo_file)), base_url))
    lines = ["[parameters]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in pins.items())]
    Path(config_file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(token)


if __name__ == "__main__":
    main(*sys.argv[1:4])
