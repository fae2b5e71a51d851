"""Derive the mock's deterministic answer from a request, the same way for every dialect.

Tokens are whitespace-separated words, so a test can predict usage:

- input tokens: the words of every text in the prompt (system, messages,
  tool results), counted by the wire module that reads its dialect;
- the answer: "Mock answer to: " + the first 40 characters of the last user
  message (whitespace collapsed); `chunks:N` makes it exactly N words (the
  words repeated as needed) and max_tokens keeps the first max_tokens words
  (finish reason "length"); each word is one output token and one stream chunk;
- a tool call (request with tools, unless the caller forbids them or the last
  message is a tool result): the chosen tool with one argument per schema
  property; its tokens are the words of the arguments' JSON text, which the
  stream sends a word at a time. chunks and max_tokens do not cut tool calls;
- `cached:N` and `reasoning:N` add those counts in each dialect's own fields;
- a last user message `say:<base64>` is answered with the decoded UTF-8 text
  verbatim (tool arguments too): tests put text in an answer that the prompt
  never showed in clear (the gateway's PII tests).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from gateway.mock_provider.scenarios import Scenario
from gateway.mock_provider.wire import as_dict, as_list

SUMMARY_CHARS = 40
SAY = "say:"
MAX_EMBEDDING_DIM = 8192

Finish = Literal["stop", "length", "tool"]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    parameters: dict[str, object]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the answer depends on, read from any dialect's request."""

    model: str
    input_tokens: int
    last_user_text: str
    max_tokens: int | None
    # The tool to call, already chosen by the wire module; None answers in text.
    tool: Tool | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    # One output token each; joined they are the text, or the tool's arguments.
    pieces: tuple[str, ...]
    finish: Finish
    input_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    tool: Tool | None

    @property
    def content(self) -> str:
        return "".join(self.pieces)

    @property
    def visible_tokens(self) -> int:
        return len(self.pieces)

    @property
    def output_tokens(self) -> int:
        """Return the output tokens, reasoning included (as OpenAI and Anthropic count them)."""
        return len(self.pieces) + self.reasoning_tokens


def count_words(texts: Iterable[str]) -> int:
    return sum(len(text.split()) for text in texts)


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + [words[-1]]


def said(last_user_text: str) -> str | None:
    """Return the text a `say:<base64>` message asks for, or None."""
    if not last_user_text.startswith(SAY):
        return None
    try:
        return base64.b64decode(last_user_text[len(SAY) :].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def answer_text(last_user_text: str) -> str:
    verbatim = said(last_user_text)
    if verbatim is not None:
        return verbatim
    summary = " ".join(last_user_text.split())[:SUMMARY_CHARS].strip()
    return f"Mock answer to: {summary}" if summary else "Mock answer."


def _example(schema: dict[str, object], summary: str) -> object:
    enum = as_list(schema.get("enum"))
    if enum:
        return enum[0]
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]
        kind = next((k for k in kind if k != "null"), "string")
    kind = kind.lower() if isinstance(kind, str) else "string"  # Gemini spells "STRING"
    examples: dict[str, object] = {
        "integer": 1,
        "number": 1,
        "boolean": True,
        "array": [],
        "object": {},
        "null": None,
    }
    return examples.get(kind, summary)


def tool_arguments(tool: Tool, last_user_text: str) -> str:
    """Return the JSON arguments of the mock's call: one example value per schema property."""
    summary = said(last_user_text) or (
        " ".join(last_user_text.split())[:SUMMARY_CHARS].strip() or "mock"
    )
    properties = as_dict(tool.parameters.get("properties"))
    arguments = {name: _example(as_dict(schema), summary) for name, schema in properties.items()}
    # json (not orjson) for its ", " and ": " separators: the stream splits on spaces.
    return json.dumps(arguments, ensure_ascii=False)


def compose(prompt: Prompt, scenario: Scenario) -> Answer:
    """Return the answer to `prompt`, shaped by the scenario's chunks/cached/reasoning."""
    finish: Finish
    if prompt.tool is not None:
        pieces = _pieces(tool_arguments(prompt.tool, prompt.last_user_text))
        finish = "tool"
    else:
        pieces = _pieces(answer_text(prompt.last_user_text))
        if scenario.chunks is not None:
            words = [piece.strip() for piece in pieces]
            repeated = (words * (scenario.chunks // len(words) + 1))[: scenario.chunks]
            pieces = _pieces(" ".join(repeated))
        finish = "stop"
        if prompt.max_tokens is not None and prompt.max_tokens < len(pieces):
            pieces = pieces[: prompt.max_tokens]
            pieces[-1] = pieces[-1].rstrip()
            finish = "length"
    return Answer(
        pieces=tuple(pieces),
        finish=finish,
        input_tokens=prompt.input_tokens,
        cached_tokens=min(scenario.cached_tokens, prompt.input_tokens),
        reasoning_tokens=scenario.reasoning_tokens,
        tool=prompt.tool,
    )


def embedding(text: str, dim: int) -> list[float]:
    """Return a deterministic vector in [-1, 1]^dim for `text` (same text, same vector)."""
    values: list[float] = []
    block = 0
    data = text.encode()
    while len(values) < dim:
        digest = hashlib.blake2b(data, digest_size=64, salt=block.to_bytes(16, "little")).digest()
        values.extend(byte / 127.5 - 1.0 for byte in digest)
        block += 1
    del values[dim:]
    return values


def embedding_base64(vector: list[float]) -> str:
    """Encode like OpenAI's encoding_format=base64: little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
