"""Translations of the pages: every string staff read goes through gettext.

Catalogues live in `app/web/locale/<lang>/LC_MESSAGES/messages.mo`, made from the template
`messages.pot` (`make messages`). English is the source language and needs none; a Welsh
catalogue added there is picked for browsers that ask for Welsh.
"""

from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LOCALE = "en"
_active: ContextVar[NullTranslations | None] = ContextVar("web_translations", default=None)
_locale: ContextVar[str] = ContextVar("web_locale", default="en")


@lru_cache
def available_locales() -> tuple[str, ...]:
    """English, and every language a compiled catalogue has been added for."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/messages.mo"))
    return tuple(dict.fromkeys((DEFAULT_LOCALE, *found)))


@lru_cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of one language (English: the strings as written)."""
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], "messages")


def negotiate(accept_language: str | None) -> str:
    """The first language the browser asks for that has a catalogue, else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in available_locales():
            return tag
    return DEFAULT_LOCALE


def activate(locale: str) -> None:
    """Use this language for the rest of the request."""
    _active.set(translations(locale))
    _locale.set(locale)


def current_locale() -> str:
    return _locale.get()


def gettext(message: str, **variables: object) -> str:
    """The message in the request's language, with %(name)s placeholders filled in."""
    active = _active.get() or NullTranslations()
    text = active.gettext(message)
    return text % variables if variables else text


def gettext_in(locale: str, message: str, **variables: object) -> str:
    """The message in a given language (English where the service has none), whatever the page's."""
    chosen = translations(locale) if locale in available_locales() else NullTranslations()
    text = chosen.gettext(message)
    return text % variables if variables else text


def ngettext_in(locale: str, singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural message for `n` in a given language, whatever the page's."""
    chosen = translations(locale) if locale in available_locales() else NullTranslations()
    return chosen.ngettext(singular, plural, n) % {"num": n, **variables}


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural message for `n`, in the request's language."""
    active = _active.get() or NullTranslations()
    text = active.ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """The message in the request's language for each of its plural categories (CLDR's `one`,
    `two`, `few`, `other`...), with `{n}` for the number: a script picks one with Intl.PluralRules."""
    return dict(_plural_forms(current_locale(), singular, plural))


@lru_cache
def _plural_forms(locale: str, singular: str, plural: str) -> tuple[tuple[str, str], ...]:
    rule = Locale.parse(locale).plural_form
    forms: dict[str, str] = {}
    for n in range(200):  # a number of every category: Welsh, with six, needs up to 6
        forms.setdefault(rule(n), ngettext(singular, plural, n, num="{n}"))
    return tuple(forms.items())


def N_(message: str) -> str:  # noqa: N802  (the name gettext tools look for)
    """Marks a string for the catalogue; it is translated where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802  (extracted as `Nn_:1,2`)
    """Marks a message with a plural for the catalogue; it is put in a language where it is shown."""
    return singular, plural


_: Callable[..., str] = gettext
