"""The audit leaf's canonical JSON is byte for byte what the RFC 8785 reference encoder writes."""

from datetime import UTC
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from app.journal.leaves import canonical_json, leaf_data, leaf_document

EXACT = 2**53 - 1
text = st.text(st.characters(codec=None, exclude_categories=["Cs"]))
scalars = st.none() | st.booleans() | st.integers(-EXACT - 2, EXACT + 2) | text
values = st.recursive(
    scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def reference(value: Any) -> bytes | type[Exception]:
    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError as exc:
        return type(exc)


def ours(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except rfc8785.CanonicalizationError as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(values)
def test_any_json_value_is_written_as_the_reference_writes_it(value: Any) -> None:
    assert ours(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # sorted by UTF-16 code units, not by code points
        {"b": '\x00\x1f\x7f\u2028"\\/', "a": [True, None, -EXACT, EXACT]},
        {"too big": EXACT + 1},
        {"float": 1e21, "small": 5e-324, "negative zero": -0.0},
        "\ud800",  # a lone surrogate is refused, as the reference refuses it
    ],
)
def test_edge_cases_match_the_reference(value: Any) -> None:
    assert ours(value) == reference(value)


optional_text = st.none() | text
instants = st.datetimes(timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(instants, text, optional_text, st.none() | st.uuids(), text, text, optional_text),
    st.none() | st.uuids(),
    st.none() | st.uuids(),
    st.dictionaries(text, values, max_size=4),
)
def test_a_leaf_is_written_as_the_reference_writes_its_event(
    head: tuple[Any, ...], referral: Any, subject: Any, details: dict[str, Any]
) -> None:
    at, kind, actor_id, agency, action, entity_type, entity_id = head
    row = [at, kind, actor_id, agency, action, entity_type, entity_id, referral, subject, details]

    def written(write: Any) -> bytes | type[Exception]:
        try:
            return bytes(write())
        except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:
            return type(exc)

    assert written(lambda: leaf_data(row)) == written(lambda: rfc8785.dumps(leaf_document(row)))
