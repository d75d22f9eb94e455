"""Notifications in the recipient's language: a person's own (their `language`), and a team's shared
address in Welsh and English, Welsh first, as Welsh public bodies write to someone whose language
they do not know. The words come from the same catalogues as the pages.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from app.web import i18n
from app.web.i18n import N_

BOTH = None  # a recipient whose language is not known: both languages
RULE = "\n\n" + "-" * 40 + "\n\n"


@dataclass(frozen=True, slots=True)
class Words:
    """A message of the catalogue and its values; a value that is itself a message is translated too."""

    message: str
    values: dict[str, str] = field(default_factory=dict)

    def said_in(self, language: str, **known: str) -> str:
        """In `language`, with `known` values (names already in that language) beside its own."""
        values = known | {name: i18n.gettext_in(language, value) for name, value in self.values.items()}
        return i18n.gettext_in(language, self.message, **values)


Compose = Callable[[str], tuple[str, str]]


def languages_for(language: str | None) -> list[str]:
    """The languages to write in: the recipient's, or Welsh then English where it is not known."""
    if language in i18n.available_locales():
        return [str(language)]
    welsh = "cy" in i18n.available_locales()
    return ["cy", i18n.DEFAULT_LOCALE] if welsh and language is BOTH else [i18n.DEFAULT_LOCALE]


def in_language(compose: Compose, language: str | None) -> tuple[str, str]:
    """The subject and body, in the recipient's language or in both."""
    versions = [compose(chosen) for chosen in languages_for(language)]
    subject = " / ".join(subject for subject, _ in versions)[:200]
    return subject, RULE.join(body for _, body in versions)


def footer(language: str, settings_link: str) -> str:
    """The last line of every notification about referrals: where to change what one is told."""
    return i18n.gettext_in(
        language,
        N_(
            "You are told of this by the referral exchange; change what you are told in your settings: "
            "%(link)s"
        ),
        link=settings_link,
    )
