"""Gemini GenerateContentResponse answers and SSE streams -> canonical completions and chunks."""

from __future__ import annotations

import orjson

from gateway.proxy.errors import MalformedAnswer, StreamProtocolError, UpstreamStreamError
from gateway.proxy.formats.sse import SSEParser
from gateway.proxy.providers.base import JSON, UpstreamError, Usage
from gateway.proxy.providers.common import (
    as_int,
    chunk,
    error_text,
    now,
    openai_usage,
    scrub,
    usage_chunk,
)
from gateway.proxy.providers.gemini.request import SIGNATURE_MARK, signature_to_id

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def usage_of(metadata: object) -> Usage:
    """Read usageMetadata: thoughts are billed as output but not counted in candidatesTokenCount."""
    if not isinstance(metadata, dict):
        return Usage()
    thoughts = as_int(metadata.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=as_int(metadata.get("promptTokenCount"))
        + as_int(metadata.get("toolUsePromptTokenCount")),
        output_tokens=as_int(metadata.get("candidatesTokenCount")) + thoughts,
        cached_input_tokens=as_int(metadata.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _finish(reason: object, has_calls: bool) -> str:
    mapped = FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_calls and mapped == "stop" else mapped


def call_id(response_id: str, index: int, signature: str | None) -> str:
    """Name a function call (Gemini's API gives none) so its result can be matched up."""
    base = f"call_{response_id[:16]}_{index}" if response_id else f"call_{index}"
    return base + SIGNATURE_MARK + signature_to_id(signature) if signature else base


def _split(parts: object, response_id: str, first_call: int) -> tuple[str, str, list[JSON]]:
    """Return (text, thoughts, tool calls) of a candidate's parts."""
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[JSON] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall")
        if isinstance(call, dict):
            index = first_call + len(calls)
            calls.append(
                {
                    "index": index,
                    "id": call.get("id")
                    or call_id(response_id, index, part.get("thoughtSignature")),
                    "type": "function",
                    "function": {
                        "name": call.get("name", ""),
                        "arguments": orjson.dumps(call.get("args") or {}).decode(),
                    },
                }
            )
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") else texts).append(part["text"])
    return "".join(texts), "".join(thoughts), calls


def completion_of(answer: JSON, alias: str) -> tuple[JSON, Usage]:
    """Translate a GenerateContentResponse into a canonical chat.completion."""
    candidates = answer.get("candidates")
    if candidates is None and "promptFeedback" not in answer:
        raise MalformedAnswer("The provider's answer has no candidates.")
    response_id = str(answer.get("responseId") or "")
    choices: list[JSON] = []
    for position, candidate in enumerate(candidates or []):
        text, thoughts, calls = _split(
            (candidate.get("content") or {}).get("parts"), response_id, 0
        )
        reply: JSON = {
            "role": "assistant",
            "content": text or (None if calls else ""),
            "refusal": None,
        }
        if calls:
            reply["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
        if thoughts:
            reply["reasoning_content"] = thoughts
        choices.append(
            {
                "index": candidate.get("index", position),
                "message": reply,
                "logprobs": None,
                "finish_reason": _finish(candidate.get("finishReason"), bool(calls)),
            }
        )
    if not choices:
        # The prompt itself was blocked (promptFeedback.blockReason).
        choices.append(
            {
                "index": 0,
                "message": {"role": "assistant", "content": "", "refusal": None},
                "logprobs": None,
                "finish_reason": "content_filter",
            }
        )
    usage = usage_of(answer.get("usageMetadata"))
    completion: JSON = {
        "id": response_id or "gemini",
        "object": "chat.completion",
        "created": now(),
        "model": alias,
        "choices": choices,
        "usage": openai_usage(usage),
    }
    return completion, usage


def stream_error(data: bytes) -> UpstreamStreamError:
    message, kind = error_text(data)
    status = 500
    try:
        code = orjson.loads(data).get("error", {}).get("code")
        status = code if isinstance(code, int) and 400 <= code < 600 else 500
    except (orjson.JSONDecodeError, AttributeError):
        pass
    return UpstreamStreamError(
        UpstreamError(status, scrub(message or "The provider reported an error."), type=kind)
    )


class GeminiStreamDecoder:
    """Decode `:streamGenerateContent?alt=sse`; each event is a whole GenerateContentResponse.

    Gemini sends no terminal event: the stream is complete once a candidate
    has a finishReason (or the prompt was blocked) and the connection ends.
    The usage-only chunk is therefore emitted by close().
    """

    __slots__ = ("_alias", "_calls", "_created", "_finished", "_id", "_sse", "_started", "usage")

    def __init__(self, alias: str) -> None:
        self._alias = alias
        self._sse = SSEParser()
        self._id = ""
        self._created = 0
        self._started: set[int] = set()
        self._calls: dict[int, int] = {}  # candidate index -> tool calls so far
        self._finished = False
        self.usage = Usage()

    def feed(self, data: bytes) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.feed(data):
            self._event(event.data, out)
        return out

    def close(self) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.close():
            self._event(event.data, out)
        if not self._finished:
            raise StreamProtocolError("The provider's stream ended before a finishReason.")
        out.append(usage_chunk(self._id, self._created, self._alias, self.usage))
        return out

    def _event(self, data: bytes, out: list[JSON]) -> None:
        try:
            answer = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise StreamProtocolError("The provider sent an event that is not valid JSON.") from e
        if not isinstance(answer, dict):
            raise StreamProtocolError("The provider sent an event that is not a JSON object.")
        if answer.get("error") is not None:
            raise stream_error(data)
        if not self._id:
            self._id = str(answer.get("responseId") or "gemini")
            self._created = now()
        self.usage.merge_max(usage_of(answer.get("usageMetadata")))
        feedback = answer.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self._finished = True
            out.append(chunk(self._id, self._created, self._alias, {}, "content_filter"))
        for position, candidate in enumerate(answer.get("candidates") or ()):
            self._candidate(candidate, position, out)

    def _candidate(self, candidate: JSON, position: int, out: list[JSON]) -> None:
        index = as_int(candidate.get("index", position))
        first_call = self._calls.get(index, 0)
        text, thoughts, calls = _split(
            (candidate.get("content") or {}).get("parts"), self._id, first_call
        )
        self._calls[index] = first_call + len(calls)
        delta: JSON = {}
        if index not in self._started:
            self._started.add(index)
            delta["role"] = "assistant"
        if text or "role" in delta:
            delta["content"] = text
        if thoughts:
            delta["reasoning_content"] = thoughts
        if calls:
            delta["tool_calls"] = calls
        reason = candidate.get("finishReason")
        finish = _finish(reason, self._calls[index] > 0) if reason else None
        if finish:
            self._finished = True
        if delta or finish:
            out.append(chunk(self._id, self._created, self._alias, delta, finish, index))
