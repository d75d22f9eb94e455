"""CSV that a spreadsheet opens as text, never as formulas (OWASP's rule for CSV injection).

A cell is read as a formula when it starts with `=`, `+`, `-` or `@`, also after leading
spaces or quotes, or with a tab or carriage return. Such a start gets a `'` before it, which
spreadsheets read as "this is text". A spreadsheet that splits on `;` (as many European
locales do) reads a comma-separated file's `;` as a cell boundary, and a quoted cell's line
break as the end of a record, so the same rule applies after every `,`, `;` and line break
inside a cell: `x;=cmd|' /C calc'!A0` is written `"x;'=cmd|' /C calc'!A0"`. Cells holding a
separator, a quote, a tab or a line break are quoted as RFC 4180 says.
"""

import re
from collections.abc import Iterable

# Where a spreadsheet may start reading a cell, followed by what would make it a formula.
FORMULA_START = re.compile(r"(?:^|(?<=[,;\r\n]))(?=[ \t\r\n\"']*[=+\-@]|[\t\r])")
QUOTED_IF_PRESENT = frozenset(',;"\t\r\n')


def defused(text: str) -> str:
    """`text` with a `'` wherever a spreadsheet would otherwise start a formula."""
    return FORMULA_START.sub("'", text)


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
