"""The request body parser: JSON objects only, nested no deeper than the proxy can write back."""

from __future__ import annotations

import orjson
import pytest

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.stages.route import MAX_JSON_DEPTH, parse_payload


def nested(levels: int) -> bytes:
    """An object whose "a" holds `levels - 1` more levels of objects and arrays, alternating.

    Written as bytes: orjson itself cannot write more than 254 levels.
    """
    opening = [b'{"k":' if level % 2 == 0 else b"[" for level in range(levels - 1)]
    closing = [b"}" if level % 2 == 0 else b"]" for level in reversed(range(levels - 1))]
    return b'{"a":' + b"".join(opening) + b'"x"' + b"".join(closing) + b"}"


def test_the_deepest_allowed_body_parses_and_can_be_written_back() -> None:
    payload = parse_payload(nested(MAX_JSON_DEPTH))
    assert orjson.loads(orjson.dumps(payload)) == payload


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 300, 1000])
def test_a_deeper_body_is_refused_with_too_deep(levels: int) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_payload(nested(levels))
    assert refused.value.code == "too_deep"


def test_many_brackets_side_by_side_are_not_depth() -> None:
    # Far more brackets than MAX_JSON_DEPTH, nested only three deep: the count
    # alone would refuse it, the walk must not.
    body = orjson.dumps({"messages": [{"role": "user", "content": "[{" * 500}] * 200})
    assert len(parse_payload(body)["messages"]) == 200


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"{", b"\xff"])
def test_a_body_that_is_not_a_json_object_is_invalid_json(body: bytes) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_payload(body)
    assert refused.value.code == "invalid_json"
