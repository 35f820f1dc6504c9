"""JSON documents are read by orjson where it gives what ``json`` gives, and by ``json`` elsewhere."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.sources.sniff import loads

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too: orjson would read them as floats
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=True, allow_infinity=True)  # json writes NaN and Infinity, orjson refuses them
    | st.text()  # lone surrogates included: json escapes them, orjson refuses the escapes
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
)


def typed(value: Any) -> Any:
    """A comparable picture of a parsed value: 1 and 1.0 differ, NaN equals NaN."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(read: Any, content: bytes) -> Any:
    try:
        return typed(read(content))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return ("error", type(exc).__name__)


@given(VALUES, st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
@example(2**70, True, "utf-8")
@example(-(2**63) - 1, True, "utf-8")
@example(float("nan"), True, "utf-8")
@example("\ud800", True, "utf-8")
def test_loads_reads_every_document_as_json_does(value, ascii_only, encoding):
    content = json.dumps(value, ensure_ascii=ascii_only).encode(encoding, errors="surrogatepass")
    assert outcome(loads, content) == outcome(json.loads, content)


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b'{"a": 1,}', b"[1] [2]", b"\xff\xfe", b'{"a": "\xe9"}', b'{"a": 1, "a": 2}', b"-0", b"1e400"],
)
def test_loads_refuses_or_reads_what_json_refuses_or_reads(content):
    assert outcome(loads, content) == outcome(json.loads, content)


def test_the_real_exports_read_the_same(shared_dir):
    for path in sorted((shared_dir / "data" / "real").glob("*.json")):
        content = path.read_bytes()
        assert typed(loads(content)) == typed(json.loads(content)), path.name
