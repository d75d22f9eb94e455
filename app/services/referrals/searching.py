"""Finding a referral in a box by its reference or by the person's name.

A name is matched against the referral's own record of the person (what the agency was shown),
never against the platform's record of them: a search must not find a referral through details
that were not shared with it, nor tell one agency what another holds.
"""

import re

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, union_all
from sqlmodel import col

from app.models.person import PersonRecord
from app.models.referral import Referral
from app.services.referrals.creating import REFERENCE_ALPHABET

# Letters of any alphabet, with the apostrophes and hyphens names carry; everything else
# (digits, LIKE's wildcards, punctuation) separates words.
_NAME_WORD = re.compile(r"(?:[^\W\d_]|['\u2019-])+")
_MOST_WORDS = 4
_LONGEST_WORD = 100
_REFERENCE_LETTERS = frozenset(REFERENCE_ALPHABET)


def reference_in(term: str) -> str | None:
    """The reference a term names, typed in any case, with or without `RX-`, dashes or spaces.

    A term with a digit that is not in a reference's shape is taken as typed (upper case), so
    an exact reference in another format is still found.
    """
    letters = "".join(ch for ch in term.upper() if ch.isalnum())
    if len(letters) == 12 and letters.startswith("RX"):
        letters = letters[2:]
    if len(letters) == 10 and set(letters) <= _REFERENCE_LETTERS:
        return f"RX-{letters[:5]}-{letters[5:]}"
    return term.strip().upper() if any(ch.isdigit() for ch in term) else None


def name_words(term: str) -> list[str]:
    """The words of a name search, lower-cased and single-spaced; none when the term has a digit
    (a reference)."""
    if any(ch.isdigit() for ch in term):
        return []
    words = (w for w in _NAME_WORD.findall(term.lower()) if any(ch.isalpha() for ch in w))
    return [word[:_LONGEST_WORD] for word in words][:_MOST_WORDS]


def _starts(column: object, word: str) -> ColumnElement[bool]:
    # The pattern is written into the SQL (safely quoted): a prepared statement's generic plan
    # cannot see a parameter's prefix, and would give up the name indexes for a scan.
    return func.lower(column).like(literal(f"{word}%", literal_execute=True))


def _names_matching(words: list[str]) -> ColumnElement[bool]:
    """The words start the given or the family name, or the first of them the one and the rest
    the other (`natalie ex`, `example nat`, `siân ap rhys`); every choice an index serves."""
    given, family = col(PersonRecord.given_name), col(PersonRecord.family_name)
    whole = " ".join(words)
    either = [_starts(given, whole), _starts(family, whole)]
    for split in range(1, len(words)):
        first, rest = " ".join(words[:split]), " ".join(words[split:])
        either.append(and_(_starts(given, first), _starts(family, rest)))
        either.append(and_(_starts(family, first), _starts(given, rest)))
    return or_(*either)


def matching(term: str) -> ColumnElement[bool]:
    """Referrals whose reference is the term, or whose person's names start with its words."""
    reference, words = reference_in(term), name_words(term)
    by_name = select(col(PersonRecord.referral_id)).where(_names_matching(words)) if words else None
    if reference is None:
        return col(Referral.id).in_(by_name) if by_name is not None else false()
    if by_name is None:
        return col(Referral.reference) == reference
    # One set of ids, so the database can start from whichever index is narrower.
    by_reference = select(col(Referral.id)).where(col(Referral.reference) == reference).correlate(None)
    return col(Referral.id).in_(union_all(by_reference, by_name))
