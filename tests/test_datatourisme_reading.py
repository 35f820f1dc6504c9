"""DATAtourisme's key and literal lookups: the quick paths give what the general ones give."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aggregator.sources.datatourisme import get, literal

NAMES = st.sampled_from(["label", "startDate", "insee", "homepage", "comment"])
PREFIXES = st.sampled_from(["", "schema:", "rdfs:", "foaf:", "dc:", "x:y:"])
KEYS = st.tuples(PREFIXES, NAMES | st.text(max_size=4)).map("".join)
LEAVES = st.none() | st.text(max_size=6) | st.integers() | st.floats(allow_nan=False)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["@value", "@language", "fr", "en", "@fr", "label"]), inner, max_size=3)
    ),
    max_leaves=8,
)


def scanned(node: Any, name: str) -> Any:
    """The lookup as first written: the exact key, else the first key whose suffix is ``name``."""
    while isinstance(node, list):
        node = node[0] if node else None
    if not isinstance(node, dict):
        return None
    if name in node:
        return node[name]
    return next((value for key, value in node.items() if key.rpartition(":")[2] == name), None)


@given(st.lists(st.dictionaries(KEYS, LEAVES, max_size=6), max_size=4), NAMES)
def test_get_finds_the_first_key_of_any_prefix(nodes, name):
    for node in nodes:  # one layout after another: the cache of layouts must not mix them up
        assert get(node, name) == scanned(node, name)


def read(value: Any) -> Any:
    try:
        return literal(value)
    except ValueError as exc:  # a value that is no text (a list as @value) is refused alike
        return type(exc).__name__, str(exc)


@given(VALUES)
def test_a_one_element_list_reads_as_the_general_rule_reads_it(value):
    # With a None beside it, the list takes the general path: None gives no text.
    assert read([value]) == read([value, None])
