"""The accessibility statement says what was tested, what is not yet right, when and who to tell."""

from fastapi import FastAPI

from tests.support.web_support import browser


async def test_the_statement_is_honest_about_what_was_tested_and_what_is_not_done(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/accessibility")
    text = page.text
    for told in (
        "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA",
        "the Welsh pages have not yet been checked by a professional Welsh translator",
        "1.4.10 (Reflow)",
        "axe-core (version 4.12) checks 140 states of 37 different pages",
        "with the keyboard alone",
        "with JavaScript turned off",
        "320 pixels wide",
        "This statement was prepared on 8 December 2026. It will be reviewed by 8 June 2027",
        "ask your agency&#39;s administrator",
        "You are signed out after 30 minutes without activity",
    ):
        assert told in text, told
    for untested in ("fully compliant", "JAWS", "NVDA", "VoiceOver"):
        assert untested not in text, untested
