"""Every string in the pages is in the message catalogue template a translation starts from."""

import os
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def test_the_catalogue_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    arguments = ["--mapping-file", "babel.cfg", "--keywords", "Nn_:1,2", "--no-location", "--sort-output"]
    arguments.append("--omit-header")
    here = Path.cwd()
    os.chdir(ROOT)  # the mapping's paths are read relative to the project
    try:
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", *arguments, "--output-file", str(fresh), "app"]
        )
    finally:
        os.chdir(here)
    committed = (ROOT / "app/web/locale/messages.pot").read_text()
    assert fresh.read_text() == committed, "run `make messages` and commit app/web/locale/messages.pot"
    assert 'msgid "Sign in"' in committed
    assert 'msgid "This referral was changed by someone else"' in committed


def _catalogue(language: str) -> Catalog:
    with (ROOT / f"app/web/locale/{language}/LC_MESSAGES/messages.po").open("rb") as po:
        return read_po(po, locale=language)


def _template() -> Catalog:
    with (ROOT / "app/web/locale/messages.pot").open("rb") as pot:
        return read_po(pot)


def test_every_message_has_a_welsh_translation_none_empty_or_fuzzy() -> None:
    welsh = _catalogue("cy")
    missing = [m.id for m in _template() if m.id and m.id not in welsh]
    empty = [m.id for m in welsh if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in welsh if m.id and m.fuzzy]
    assert (missing, empty, fuzzy) == ([], [], [])
    assert welsh.num_plurals == 6


def _placeholders(text: str, *, plural: bool) -> set[str]:
    # A plural form may say the number in words ("un", "dau") instead of giving it.
    found = set(PLACEHOLDER.findall(text))
    return found - {"%(num)s"} if plural else found


def test_welsh_translations_keep_every_placeholder() -> None:
    changed = []
    for message in _catalogue("cy"):
        plural = isinstance(message.id, tuple)
        source = " ".join(message.id) if plural else str(message.id)
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in translations:
            if message.id and _placeholders(str(text), plural=plural) != _placeholders(source, plural=plural):
                changed.append(message.id)
    assert changed == []


def test_english_has_a_catalogue_of_its_own() -> None:
    english = _catalogue("en")
    assert not [m.id for m in _template() if m.id and m.id not in english]
