"""Every string in the pages is in the message catalogue template a translation starts from."""

import os
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent


def test_the_catalogue_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    arguments = ["--mapping-file", "babel.cfg", "--no-location", "--sort-output", "--omit-header"]
    here = Path.cwd()
    os.chdir(ROOT)  # the mapping's paths are read relative to the project
    try:
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", *arguments, "--output-file", str(fresh), "app/web"]
        )
    finally:
        os.chdir(here)
    committed = (ROOT / "app/web/locale/messages.pot").read_text()
    assert fresh.read_text() == committed, "run `make messages` and commit app/web/locale/messages.pot"
    assert 'msgid "Sign in"' in committed
    assert 'msgid "This referral was changed by someone else"' in committed
