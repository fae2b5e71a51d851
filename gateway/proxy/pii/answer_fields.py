"""Which fields of a provider's answer hold text the PII policy must scan.

The stream rewriters (pii.stream) and the whole-answer scan (pii.content)
both read these lists: a field named here as text is scanned, a field named
as the API's own words passes, and anything else is scanned whole or, in a
stream (where a field can arrive in pieces no window follows), ends the
stream. Nothing leaves unscanned because its shape was new.
"""

from __future__ import annotations

from typing import Any

from gateway.proxy.errors import PiiScanFailed

# Content blocks that pass as they are: thinking the provider signs or encrypts
# (a changed one breaks the client's next turn; the model saw only the redacted prompt).
UNSCANNED_BLOCKS = frozenset({"thinking", "redacted_thinking"})
# Keys whose strings are the API's own words or opaque tokens, never text to scan
# (a changed encrypted_content would break the client's next turn too).
OPAQUE_KEYS = frozenset(
    {"type", "id", "tool_use_id", "name", "signature", "data", "encrypted_content",
     "encrypted_index", "model", "role", "stop_reason"}
)  # fmt: skip
# An OpenAI delta's text fields, each with a window of its own (vLLM and DeepSeek send
# reasoning_content, Ollama reasoning). The rest of a delta, and of a choice, is the
# API's own words; a key not listed here that holds a value ends the stream.
DELTA_TEXT = ("content", "refusal", "reasoning_content", "reasoning")
DELTA_KEYS = frozenset({*DELTA_TEXT, "role", "tool_calls", "function_call"})
CHOICE_KEYS = frozenset(
    {"index", "delta", "logprobs", "finish_reason", "stop_reason", "matched_stop"}
)
EMPTY: tuple[Any, ...] = (None, "", [], {})

# What a whole answer and its choices hold beside their text: the API's own
# words and numbers. Any other field of a whole answer is scanned whole.
CHOICE_WORDS = frozenset({"index", "finish_reason", "logprobs"})
OPENAI_ANSWER_WORDS = frozenset(
    {"id", "object", "created", "model", "system_fingerprint", "service_tier", "usage", "choices"}
)
ANTHROPIC_ANSWER_WORDS = frozenset(
    {"id", "type", "role", "model", "content", "stop_reason", "usage", "container"}
)


def unknown_shape() -> PiiScanFailed:
    return PiiScanFailed("An event of the answer has a shape the PII scanner does not know.")


def known_keys_only(value: dict[str, Any], known: frozenset[str]) -> None:
    """Refuse (PiiScanFailed) a field not in `known` that holds anything."""
    for key, item in value.items():
        if key not in known and item not in EMPTY:
            raise unknown_shape()
