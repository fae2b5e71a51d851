"""Assemble a client SSE stream into the one answer the provider would have returned unstreamed.

The trace keeps a stream as one JSON answer in the client's format, so a
person reads a trace of a streamed request like one of a whole answer:

    OpenAI     {id, object: "chat.completion", created, model,
                choices: [{index, message: {role, content, tool_calls?, refusal?,
                reasoning_content?}, finish_reason}], usage}
    Anthropic  {id, type: "message", role, model, content: [blocks],
                stop_reason, stop_sequence, usage}

An error event (a stream that broke, or was cut for its budget) is kept
under "error". The assembler is fed the bytes the caller was sent (after
the answer-side PII redaction, before any restore), so it holds exactly what
was streamed so far when the client leaves. It stops taking text once it
holds `limit` bytes of it: past that the trace is cut anyway (capture.py).
"""

from __future__ import annotations

from typing import Any

import orjson

JSON = dict[str, Any]


def _sse_data(event: bytes) -> tuple[bytes, bytes | None]:
    """Return an SSE event's name and data (None for a comment or keep-alive)."""
    name = b""
    data: list[bytes] = []
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line.startswith(b"event:"):
            name = line[6:].strip()
    return name, (b"\n".join(data) if data else None)


class StreamAssembler:
    """Feed SSE bytes as they were sent; `answer()` returns the assembled JSON answer."""

    def __init__(self, limit: int) -> None:
        self._buffer = b""
        self._limit = limit
        self.size = 0  # bytes of text taken
        self.over = False  # text was left out past `limit`
        self.error: Any = None

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        *events, self._buffer = buffer.split(b"\n\n")
        for event in events:
            name, payload = _sse_data(event)
            if payload is None or payload == b"[DONE]":
                continue
            try:
                value = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue  # the caller got it as it was; it holds no answer to assemble
            if isinstance(value, dict):
                self._event(name, value)

    def _take(self, text: Any) -> str:
        """Return `text` if the trace still has room for it, else "" (and mark it cut)."""
        if not isinstance(text, str) or not text:
            return ""
        if self.over:
            return ""
        self.size += len(text)
        if self.size > self._limit:
            self.over = True
        return text

    def _event(self, name: bytes, value: JSON) -> None:
        raise NotImplementedError

    def answer(self, usage: JSON) -> JSON:
        raise NotImplementedError


class _OpenAIChoice:
    __slots__ = ("content", "fields", "finish_reason", "function_call", "role", "tool_calls")

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.fields: dict[str, list[str]] = {}  # refusal, reasoning_content, reasoning
        self.tool_calls: dict[int, JSON] = {}
        self.function_call: JSON | None = None
        self.finish_reason: Any = None


class OpenAIAssembler(StreamAssembler):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._head: JSON = {}
        self._choices: dict[int, _OpenAIChoice] = {}
        self._usage: Any = None

    def _event(self, name: bytes, value: JSON) -> None:
        if value.get("error") is not None:
            self.error = value["error"]
            return
        for key in ("id", "created", "model", "system_fingerprint"):
            if key in value and key not in self._head:
                self._head[key] = value[key]
        if value.get("usage") is not None:
            self._usage = value["usage"]
        choices = value.get("choices")
        if not isinstance(choices, list):
            return
        for raw in choices:
            if isinstance(raw, dict):
                self._choice(raw)

    def _choice(self, raw: JSON) -> None:
        index = raw.get("index", 0)
        choice = self._choices.get(index)
        if choice is None:
            choice = self._choices[index] = _OpenAIChoice()
        if raw.get("finish_reason"):
            choice.finish_reason = raw["finish_reason"]
        delta = raw.get("delta")
        if not isinstance(delta, dict):
            return
        if isinstance(delta.get("role"), str):
            choice.role = delta["role"]
        text = self._take(delta.get("content"))
        if text:
            choice.content.append(text)
        for field in ("refusal", "reasoning_content", "reasoning"):
            text = self._take(delta.get(field))
            if text:
                choice.fields.setdefault(field, []).append(text)
        for call in delta.get("tool_calls") or ():
            if isinstance(call, dict):
                self._tool_call(choice, call)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            if choice.function_call is None:
                choice.function_call = {"name": "", "arguments": ""}
            if isinstance(legacy.get("name"), str):
                choice.function_call["name"] += legacy["name"]
            choice.function_call["arguments"] += self._take(legacy.get("arguments"))

    def _tool_call(self, choice: _OpenAIChoice, call: JSON) -> None:
        index = call.get("index", 0)
        found = choice.tool_calls.get(index)
        if found is None:
            found = choice.tool_calls[index] = {
                "id": None,
                "type": "function",
                "function": {"name": "", "arguments": ""},
            }
        if call.get("id"):
            found["id"] = call["id"]
        if isinstance(call.get("type"), str):
            found["type"] = call["type"]
        function = call.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str):
                found["function"]["name"] += function["name"]
            found["function"]["arguments"] += self._take(function.get("arguments"))

    def answer(self, usage: JSON) -> JSON:
        choices = []
        for index in sorted(self._choices, key=lambda i: (not isinstance(i, int), str(i))):
            choice = self._choices[index]
            message: JSON = {
                "role": choice.role,
                "content": "".join(choice.content) or None,
                "refusal": None,
            }
            for field, parts in choice.fields.items():
                message[field] = "".join(parts)
            if choice.tool_calls:
                message["tool_calls"] = [choice.tool_calls[i] for i in sorted(choice.tool_calls)]
            if choice.function_call is not None:
                message["function_call"] = choice.function_call
            choices.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": choice.finish_reason,
                }
            )
        answer: JSON = {
            "id": self._head.get("id"),
            "object": "chat.completion",
            "created": self._head.get("created"),
            "model": self._head.get("model"),
            "choices": choices,
            "usage": self._usage
            if self._usage is not None
            else {
                "prompt_tokens": usage["input_tokens"],
                "completion_tokens": usage["output_tokens"],
                "total_tokens": usage["input_tokens"] + usage["output_tokens"],
            },
        }
        if "system_fingerprint" in self._head:
            answer["system_fingerprint"] = self._head["system_fingerprint"]
        if self.error is not None:
            answer["error"] = self.error
        return answer


class AnthropicAssembler(StreamAssembler):
    # What each delta type adds to its block, and to which field.
    _DELTAS = {
        "text_delta": ("text", "text"),
        "input_json_delta": ("partial_json", "input"),
        "thinking_delta": ("thinking", "thinking"),
        "signature_delta": ("signature", "signature"),
    }

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._message: JSON = {}
        self._blocks: dict[Any, JSON] = {}
        self._json: dict[Any, list[str]] = {}  # a tool_use block's input, in pieces

    def _event(self, name: bytes, value: JSON) -> None:
        kind = value.get("type")
        if kind == "message_start" and isinstance(value.get("message"), dict):
            self._message = dict(value["message"])
        elif kind == "content_block_start" and isinstance(value.get("content_block"), dict):
            block = dict(value["content_block"])
            if isinstance(block.get("text"), str):
                block["text"] = self._take(block["text"])
            self._blocks[value.get("index")] = block
        elif kind == "content_block_delta" and isinstance(value.get("delta"), dict):
            self._delta(value.get("index"), value["delta"])
        elif kind == "message_delta":
            delta = value.get("delta")
            if isinstance(delta, dict):
                self._message.update(delta)
            if isinstance(value.get("usage"), dict):
                usage = self._message.get("usage")
                merged = dict(usage) if isinstance(usage, dict) else {}
                merged.update(value["usage"])
                self._message["usage"] = merged
        elif kind == "error" or name == b"error":
            self.error = value.get("error", value)

    def _delta(self, index: Any, delta: JSON) -> None:
        block = self._blocks.setdefault(index, {"type": "text", "text": ""})
        found = self._DELTAS.get(str(delta.get("type")))
        if found is None:
            if delta.get("type") == "citations_delta" and "citation" in delta:
                block.setdefault("citations", []).append(delta["citation"])
            return
        source, field = found
        text = self._take(delta.get(source))
        if field == "input":
            self._json.setdefault(index, []).append(text)
        else:
            block[field] = (block.get(field) or "") + text

    def answer(self, usage: JSON) -> JSON:
        content = []
        for index in sorted(self._blocks, key=lambda i: (not isinstance(i, int), str(i))):
            block = self._blocks[index]
            pieces = self._json.get(index)
            if pieces is not None:
                text = "".join(pieces)
                try:
                    block["input"] = orjson.loads(text) if text else {}
                except orjson.JSONDecodeError:
                    block["input"] = text  # cut short: kept as the text that came
            content.append(block)
        answer: JSON = {
            "id": self._message.get("id"),
            "type": "message",
            "role": self._message.get("role", "assistant"),
            "model": self._message.get("model"),
            "content": content,
            "stop_reason": self._message.get("stop_reason"),
            "stop_sequence": self._message.get("stop_sequence"),
            "usage": self._message.get("usage")
            or {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]},
        }
        if self.error is not None:
            answer["error"] = self.error
        return answer


ASSEMBLERS: dict[str, type[StreamAssembler]] = {
    "openai": OpenAIAssembler,
    "anthropic": AnthropicAssembler,
}
