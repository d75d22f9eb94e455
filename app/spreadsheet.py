"""CSV that a spreadsheet opens as text, never as formulas (OWASP's rule for CSV injection).

A cell is read as a formula when it starts with `=`, `+`, `-` or `@`, also after leading
spaces (a no-break space and the other Unicode spaces too), quotes or invisible formatting
characters (a zero-width space, a byte order mark), or with a tab or carriage return. Such a
start gets a `'` before it, which spreadsheets read as "this is text". A spreadsheet that
splits on `;` (as many European locales do) reads a comma-separated file's `;` as a cell
boundary, and a quoted cell's line break as the end of a record, so the same rule applies
after every `,`, `;` and line break inside a cell: `x;=cmd|' /C calc'!A0` is written
`"x;'=cmd|' /C calc'!A0"`. Cells holding a separator, a quote, a tab or a line break are
quoted as RFC 4180 says.
"""

import re
from collections.abc import Iterable

from app.text_guard import is_invisible_format

# Where a spreadsheet may start reading a cell, followed by what would make it a formula. `\s`
# is every Unicode space; invisible formatting characters are read as spaces first (below).
FORMULA_START = re.compile(r"(?:^|(?<=[,;\r\n]))(?=[\s\"']*[=+\-@]|[\t\r])")
QUOTED_IF_PRESENT = frozenset(',;"\t\r\n')


def defused(text: str) -> str:
    """`text` with a `'` wherever a spreadsheet would otherwise start a formula."""
    # Python's patterns have no class for format characters: they are matched as spaces in a
    # copy of the same length, and the marks go in the text at the places found there.
    shadow = "".join(" " if is_invisible_format(c) else c for c in text)
    starts = [found.start() for found in FORMULA_START.finditer(shadow)]
    pieces = [text[begin:end] for begin, end in zip([0, *starts], [*starts, len(text)], strict=True)]
    return "'".join(pieces)


def cell(value: object) -> str:
    """One cell: empty for None, numbers as they are, text defused and quoted as needed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    text = defused(value)
    if QUOTED_IF_PRESENT.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def line(values: Iterable[object]) -> str:
    """One CSV record, comma-separated and ending in CRLF (RFC 4180)."""
    return ",".join(cell(value) for value in values) + "\r\n"
