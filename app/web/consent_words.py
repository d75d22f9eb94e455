"""The words a caseworker reads aloud when asking for consent, in the person's own language.

A Welsh speaker is asked in Welsh whatever language the caseworker reads the pages in: the
person's language choice is recorded and used, as the Welsh Language Standards ask.
"""

from dataclasses import dataclass

from app.models.directory import Agency, Service
from app.web import i18n
from app.web.i18n import N_

# The same messages the page had in English, so each language's catalogue holds them once.
WORDS = (
    N_("I would like to refer you to %(service)s at %(agency)s, so that they can help you."),
    N_(
        "To do that, I will share your name and date of birth with them, and, if you agree, how to "
        "contact you and your circumstances, such as benefits and what is making things harder for you."
    ),
    N_(
        "They will use your details only for the help you agree to. Both of our agencies will see what "
        "happens with the referral."
    ),
    N_("You can change your mind at any time, and we will stop sharing your details. Do you agree?"),
)


@dataclass(frozen=True, slots=True)
class SpokenWords:
    """The words in one language, and that language's code for the page's `lang` attribute."""

    language: str
    paragraphs: list[str]


def spoken_in(language: str, service: Service, agency: Agency) -> SpokenWords:
    """The words to read in `language` (English where the service has no catalogue for it)."""
    spoken = language if language in i18n.available_locales() else i18n.DEFAULT_LOCALE
    welsh = spoken == "cy"
    names = {
        "service": (service.name_cy if welsh and service.name_cy else service.name),
        "agency": (agency.name_cy if welsh and agency.name_cy else agency.name),
    }
    return SpokenWords(spoken, [i18n.gettext_in(spoken, words, **names) for words in WORDS])
