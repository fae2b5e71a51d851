"""Share what every dialect's wire module needs: the Reply it builds, errors, JSON reading.

Request bodies are untrusted JSON: the accessors below read them without
trusting their types, so a malformed request is a 400 in the provider's shape,
never a crash of the mock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import orjson

Headers = list[tuple[bytes, bytes]]

JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]

_ids = itertools.count(1)


def next_id(prefix: str) -> str:
    """Return a process-unique id in the provider's style ("chatcmpl-", "msg_", ...)."""
    return f"{prefix}mock{next(_ids):012x}"


class ProviderError(Exception):
    """An answer in the provider's error shape; each wire module knows how to spell it."""

    def __init__(self, status: int, message: str, headers: Headers | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


@dataclass(slots=True)
class Reply:
    """A whole answer (`body`) or a stream of already framed events (`events`)."""

    status: int = 200
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    events: list[bytes] | None = None
    # Index of the first event carrying answer content: where cut-stream and
    # malformed-chunk strike, so the client has seen the stream begin.
    first_content: int = 0
    # The dialect's own broken frame, for malformed-chunk.
    malformed: bytes = b""


def json_reply(payload: object, headers: Headers | None = None) -> Reply:
    return Reply(200, headers or JSON_HEADERS, orjson.dumps(payload))


def sse_data(payload: object) -> bytes:
    """Frame a payload as one `data:` event, the OpenAI and Gemini way."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def as_str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def optional_int(body: dict[str, object], *names: str) -> int | None:
    """Return the first of `names` present in `body` as a positive int; 400 otherwise."""
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProviderError(400, f"{name} must be a positive integer")
        return value
    return None


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ProviderError(400, message)
