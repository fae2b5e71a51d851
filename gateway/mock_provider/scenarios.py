"""Parse the scenario a request asks for: its failure mode, timing and answer shape.

A request picks its scenario with the header `x-mock-scenario`, or, since the
proxy forwards no arbitrary client header, through the model name (a route's
deployment model can carry it). When the header is present it alone counts.

    header:  x-mock-scenario: TERM[,TERM...]          e.g. "pause:200,chunks:5"
    model:   <anything>mock-TERM[-TERM...]            e.g. "mock-pause-200-chunks-5",
                                                       "gpt-4o-mock-error-429"

    TERM                 effect
    slow:MS              wait MS milliseconds before the response starts
    pause:MS             streams: wait MS milliseconds before every event after the first
    chunks:N             the answer has exactly N tokens, streamed as N content chunks
    error:STATUS         answer STATUS (400..599) in the provider's error shape
    retry-after:S        the `retry-after` of 429/503/529 errors (default 1)
    cached:N             report N of the prompt tokens as cached (capped at the prompt)
    reasoning:N          report N reasoning/thinking tokens on top of the answer
    timeout              never answer: hold the request (watching for the client to
                         leave) for up to MOCK_PROVIDER_TIMEOUT_S (default 60 s),
                         then answer 504 and close the connection
    cut-stream           send the headers and a few events (non-streamed: half the body),
                         then drop the connection: no [DONE], no message_stop
    malformed-chunk      streams: one event that is not valid JSON, after the first
                         content chunk; non-streamed: a 200 whose body is not JSON
    odd-shape            Anthropic: valid JSON in a shape the API never sends (a whole
                         answer's `content` a bare string; a stream's content events
                         bare JSON strings instead of objects); other dialects ignore it

`:` and `-` are interchangeable before a number (`error-500` == `error:500`).
A header term the grammar does not know is a 400; in a model name, words that
are not terms are ignored (`mock-gpt-4o` is a plain request, `gpt-mock` too).
Numbers are capped (times at 60 s, chunks and token counts at 100,000).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

MAX_MS = 60_000
MAX_COUNT = 100_000
MODEL_MARKER = "mock-"

_NUMBERED = ("slow", "pause", "chunks", "error", "retry-after", "cached", "reasoning")
_FLAGS = ("timeout", "cut-stream", "malformed-chunk", "odd-shape")
# Every term the grammar knows; `python -m gateway.mock_provider --help` lists each.
TERM_NAMES: tuple[str, ...] = _NUMBERED + _FLAGS
# A term stands alone: no letter or digit directly before or after it, so
# "mock-superslow-5" or "chunks-5x" pick nothing.
_TERM = re.compile(
    r"(?<![a-z0-9])(?:(?P<name>" + "|".join(_NUMBERED) + r")[:-](?P<value>\d{1,9})"
    r"|(?P<flag>" + "|".join(_FLAGS) + r"))(?![a-z0-9])"
)


class ScenarioError(ValueError):
    """The x-mock-scenario header says something the grammar does not know."""


@dataclass(frozen=True, slots=True)
class Scenario:
    slow_ms: int = 0
    pause_ms: int = 0
    chunks: int | None = None
    error_status: int | None = None
    retry_after_s: int = 1
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    timeout: bool = False
    cut_stream: bool = False
    malformed_chunk: bool = False
    odd_shape: bool = False

    @property
    def label(self) -> str:
        """Return the canonical spelling, as the recorder counts it ("none" when plain)."""
        return _label(self)


PLAIN = Scenario()


@functools.lru_cache(maxsize=512)
def _label(scenario: Scenario) -> str:
    terms = [
        f"{name}:{value}"
        for name, value in (
            ("slow", scenario.slow_ms),
            ("pause", scenario.pause_ms),
            ("chunks", scenario.chunks),
            ("error", scenario.error_status),
            ("cached", scenario.cached_tokens),
            ("reasoning", scenario.reasoning_tokens),
        )
        if value
    ]
    if scenario.error_status is not None and scenario.retry_after_s != 1:
        terms.append(f"retry-after:{scenario.retry_after_s}")
    terms += [
        flag
        for flag, on in (
            ("timeout", scenario.timeout),
            ("cut-stream", scenario.cut_stream),
            ("malformed-chunk", scenario.malformed_chunk),
            ("odd-shape", scenario.odd_shape),
        )
        if on
    ]
    return ",".join(terms) or "none"


def _apply(scenario: Scenario, match: re.Match[str], strict: bool) -> Scenario:
    """Return `scenario` with one matched term applied (invalid numbers: error or ignored)."""
    flag = match["flag"]
    if flag == "timeout":
        return replace(scenario, timeout=True)
    if flag == "cut-stream":
        return replace(scenario, cut_stream=True)
    if flag == "malformed-chunk":
        return replace(scenario, malformed_chunk=True)
    if flag == "odd-shape":
        return replace(scenario, odd_shape=True)
    name, value = match["name"], int(match["value"])
    if (name == "error" and not 400 <= value <= 599) or (name == "chunks" and value < 1):
        if strict:
            raise ScenarioError(f"{name}:{value} is out of range")
        return scenario
    ms, count = min(value, MAX_MS), min(value, MAX_COUNT)
    if name == "slow":
        return replace(scenario, slow_ms=ms)
    if name == "pause":
        return replace(scenario, pause_ms=ms)
    if name == "chunks":
        return replace(scenario, chunks=count)
    if name == "error":
        return replace(scenario, error_status=value)
    if name == "retry-after":
        return replace(scenario, retry_after_s=min(value, MAX_MS // 1000))
    if name == "cached":
        return replace(scenario, cached_tokens=count)
    return replace(scenario, reasoning_tokens=count)


@functools.lru_cache(maxsize=512)
def parse_header(value: str) -> Scenario:
    """Parse an x-mock-scenario header value; raise ScenarioError on an unknown term."""
    scenario = PLAIN
    for raw in value.lower().split(","):
        term = raw.strip()
        if not term:
            continue
        match = _TERM.fullmatch(term)
        if match is None:
            raise ScenarioError(f"unknown mock scenario term {term!r}")
        scenario = _apply(scenario, match, strict=True)
    return scenario


@functools.lru_cache(maxsize=512)
def parse_model(model: str) -> Scenario:
    """Read the terms following the first "mock-" in a model name; ignore other words."""
    lowered = model.lower()
    at = lowered.find(MODEL_MARKER)
    if at < 0:
        return PLAIN
    scenario = PLAIN
    for match in _TERM.finditer(lowered, at + len(MODEL_MARKER)):
        scenario = _apply(scenario, match, strict=False)
    return scenario


def scenario_for(header: bytes | None, model: str) -> Scenario:
    """Choose the request's scenario: the header when present, else the model name."""
    if header is not None:
        return parse_header(header.decode("latin-1"))
    return parse_model(model)
