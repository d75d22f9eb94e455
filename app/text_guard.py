"""Control characters are refused in every text a request carries, with a 422 naming the field.

PostgreSQL cannot store NUL in text and SQLite can, so without this check the same request
was a 500 on one database and stored on the other. Other control characters (and lone UTF-16
surrogates, which cannot be encoded at all) have no place in a name, a code or a note either,
and make stored text misleading wherever it is shown. Tab, line feed and carriage return are
allowed: notes and messages run over several lines. Fields that must stay on one line refuse
those as well, in their own models, and invisible formatting characters too (`single_line`):
a name that holds a direction override or a zero-width space reads differently from what it
holds, or looks like another. Free text keeps them: some scripts and emoji need joiners.

The check runs as an application dependency over the query string, the path and the body,
JSON or a form (urlencoded or multipart alike), for the pages as for the API, so it covers
every field of every route, including those added later. No route takes a file, so a form
part that is one is refused: it could carry anything, and no page or endpoint would look at it.
"""

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from app.errors import Unprocessable

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_BREAKS = re.compile("[\t\r\n]")
MESSAGE = "must not contain control characters"
NOT_A_FILE = "must be text: no file is accepted"
JSON_TYPES = ("application/json",)
# The bodies Starlette reads as a form, and FastAPI hands to a route's Form() parameters.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a character no text field may hold."""
    return CONTROL_CHARACTERS.search(text) is not None


def is_invisible_format(character: str) -> bool:
    """Whether the character is a format character (Unicode category Cf), not shown itself:
    direction overrides, isolates and marks, zero-width spaces and joiners, the byte order mark,
    the soft hyphen."""
    return unicodedata.category(character) == "Cf"


def single_line(text: str | None) -> str | None:
    """A validator for fields that must stay on one line as shown: no control characters, no breaks
    or tabs, no invisible formatting.

    An optional field left out (None) has nothing to check.
    """
    if text is None:
        return None
    if has_control_characters(text) or LINE_BREAKS.search(text):
        raise ValueError("must be a single line without control characters")
    if any(is_invisible_format(character) for character in text):
        raise ValueError("must not contain invisible formatting characters (such as direction marks)")
    return text


def fields_with_control_characters(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """The dotted path of every string in a parsed JSON document that holds a control character."""
    if isinstance(value, str):
        if has_control_characters(value):
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_control_characters(str(key)):
                yield ".".join(path) or "body"  # the member's name itself is not echoed back
            else:
                yield from fields_with_control_characters(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from fields_with_control_characters(item, (*path, str(index)))


def _problem(field: str, where: str, message: str = MESSAGE) -> dict[str, str]:
    return {"field": field, "in": where, "message": message}


def _pairs_at_fault(pairs: Iterator[tuple[str, str]], where: str) -> list[dict[str, str]]:
    return [
        # A name that is itself at fault is not echoed back, as in a JSON document.
        _problem(where if has_control_characters(name) else name, where)
        for name, value in pairs
        if has_control_characters(name) or has_control_characters(value)
    ]


def _form_at_fault(form: FormData) -> list[dict[str, str]]:
    """Every field of a form holding a control character, and every part that is a file."""
    texts = ((name, value) for name, value in form.multi_items() if isinstance(value, str))
    files = [name for name, value in form.multi_items() if not isinstance(value, str)]
    errors = _pairs_at_fault(texts, "body")
    return errors + [
        _problem("body" if has_control_characters(name) else name, "body", NOT_A_FILE) for name in files
    ]


async def _body_at_fault(request: Request) -> list[dict[str, str]]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        try:
            # FastAPI has parsed the body already, and Starlette keeps what it parsed.
            document = await request.json()
        except ValueError:
            return []  # no body, or not JSON: the route itself refuses it if it wants one
        return [
            {"field": f, "in": "body", "message": MESSAGE} for f in fields_with_control_characters(document)
        ]
    if media_type in FORM_TYPES:
        # Parsed once: Starlette keeps the form for FastAPI's Form() parameters and the pages.
        return _form_at_fault(await request.form())
    return []


async def refuse_control_characters(request: Request) -> None:
    """Answer 422, naming each field, when the query, the path or the body holds a control character."""
    errors = _pairs_at_fault(iter(request.query_params.multi_items()), "query")
    # Path convertors (`{id:uuid}`) hand over values already parsed; only text can hold a control character.
    errors += _pairs_at_fault(((k, v) for k, v in request.path_params.items() if isinstance(v, str)), "path")
    errors += await _body_at_fault(request)
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Unprocessable(summary, errors=errors)
