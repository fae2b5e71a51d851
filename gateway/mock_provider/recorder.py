"""Remember what reached the mock, in bounded memory, for tests to assert on.

`GET /_mock/requests` answers `Recorder.snapshot()`:

    {"total": int,                      provider requests since the last reset
     "by_path": {path: int},            at most MAX_KEYS paths, then "(other)"
     "by_scenario": {label: int},       labels as Scenario.label spells them
     "disconnects": int,                clients that left before the answer ended
     "last": RecordedJSON | null,       the newest of "recent"
     "recent": [RecordedJSON, ...]}     the last MAX_RECENT requests, oldest first

    RecordedJSON = {"method", "path", "query", "model", "scenario",
                    "api_key" (the key as sent, from whichever header the dialect reads),
                    "headers": {lower-case name: value}, "body": the parsed JSON or null}

`POST /_mock/reset` empties it. Each server process keeps its own record: run
the mock with one worker when a test reads it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TypedDict

MAX_RECENT = 50
MAX_KEYS = 1000
OTHER = "(other)"


class RecordedJSON(TypedDict):
    method: str
    path: str
    query: str
    model: str
    scenario: str
    api_key: str | None
    headers: dict[str, str]
    body: object


class RecorderSnapshot(TypedDict):
    total: int
    by_path: dict[str, int]
    by_scenario: dict[str, int]
    disconnects: int
    last: RecordedJSON | None
    recent: list[RecordedJSON]


@dataclass(slots=True)
class RecordedRequest:
    """One request as received; headers stay raw until someone asks, to keep recording cheap."""

    method: str
    path: str
    query: bytes
    model: str
    scenario: str
    api_key: str | None
    headers: list[tuple[bytes, bytes]]
    body: object

    def to_json(self) -> RecordedJSON:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "model": self.model,
            "scenario": self.scenario,
            "api_key": self.api_key,
            "headers": {
                bytes(k).decode("latin-1"): bytes(v).decode("latin-1") for k, v in self.headers
            },
            "body": self.body,
        }


def _bump(counts: dict[str, int], key: str) -> None:
    # Paths carry model and deployment names: cap the distinct keys so a
    # long benchmark with varied names cannot grow the dict without bound.
    if key not in counts and len(counts) >= MAX_KEYS:
        key = OTHER
    counts[key] = counts.get(key, 0) + 1


class Recorder:
    def __init__(self) -> None:
        self.recent: deque[RecordedRequest] = deque(maxlen=MAX_RECENT)
        self.by_path: dict[str, int] = {}
        self.by_scenario: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self.total = 0
        self.disconnects = 0
        self.by_path.clear()
        self.by_scenario.clear()
        self.recent.clear()

    def record(self, request: RecordedRequest) -> None:
        """Count a provider request and keep it among the recent ones."""
        self.total += 1
        _bump(self.by_path, request.path)
        _bump(self.by_scenario, request.scenario)
        self.recent.append(request)

    def disconnected(self) -> None:
        """Count a client that left before its answer was complete."""
        self.disconnects += 1

    def snapshot(self) -> RecorderSnapshot:
        recent = [request.to_json() for request in self.recent]
        return {
            "total": self.total,
            "by_path": dict(self.by_path),
            "by_scenario": dict(self.by_scenario),
            "disconnects": self.disconnects,
            "last": recent[-1] if recent else None,
            "recent": recent,
        }
