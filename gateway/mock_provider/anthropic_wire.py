"""Speak Anthropic Messages: whole and streamed answers, token counting, models, errors."""

from __future__ import annotations

import json

import orjson

from gateway.mock_provider.answers import Answer, Prompt, Tool, count_words
from gateway.mock_provider.wire import (
    JSON_HEADERS,
    SSE_HEADERS,
    Reply,
    as_dict,
    as_list,
    as_str,
    json_reply,
    next_id,
    optional_int,
    require,
)

MODELS = ("claude-mock", "claude-mock-haiku")
STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}

MODELS_BODY = orjson.dumps(
    {
        "data": [
            {
                "type": "model",
                "id": name,
                "display_name": name.replace("-", " ").title(),
                "created_at": "2025-01-01T00:00:00Z",
            }
            for name in MODELS
        ],
        "has_more": False,
        "first_id": MODELS[0],
        "last_id": MODELS[-1],
    }
)


def error_body(status: int, message: str) -> bytes:
    kind = _ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return orjson.dumps(
        {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": next_id("req_"),
        }
    )


def _texts(content: object) -> list[str]:
    """Return every text of a content field: a string, text blocks, tool results."""
    if isinstance(content, str):
        return [content]
    texts = []
    for block in map(as_dict, as_list(content)):
        if block.get("type") == "tool_result":
            texts += _texts(block.get("content"))
        else:
            texts.append(as_str(block.get("text")))
    return texts


def _user_text(message: dict[str, object]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    blocks = map(as_dict, as_list(content))
    return " ".join(as_str(b.get("text")) for b in blocks if b.get("type") == "text")


def _is_tool_result(message: dict[str, object]) -> bool:
    blocks = map(as_dict, as_list(message.get("content")))
    return any(block.get("type") == "tool_result" for block in blocks)


def _chosen_tool(body: dict[str, object], last: dict[str, object]) -> Tool | None:
    tools = [as_dict(tool) for tool in as_list(body.get("tools"))]
    choice = as_dict(body.get("tool_choice"))
    if not tools or choice.get("type") == "none" or _is_tool_result(last):
        return None
    wanted = as_str(choice.get("name"))
    tool = next((t for t in tools if t.get("name") == wanted), tools[0])
    return Tool(as_str(tool.get("name"), "tool"), as_dict(tool.get("input_schema")))


def input_tokens(body: dict[str, object]) -> int:
    messages = [as_dict(m) for m in as_list(body.get("messages"))]
    texts = _texts(body.get("system"))
    for message in messages:
        texts += _texts(message.get("content"))
    return count_words(texts)


def read_messages(body: dict[str, object]) -> tuple[Prompt, bool]:
    """Read a Messages request: the prompt and whether to stream."""
    model = body.get("model")
    require(isinstance(model, str) and bool(model), "model: Field required")
    messages = [as_dict(m) for m in as_list(body.get("messages"))]
    require(bool(messages), "messages: at least one message is required")
    max_tokens = optional_int(body, "max_tokens")
    require(max_tokens is not None, "max_tokens: Field required")
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    prompt = Prompt(
        model=as_str(model),
        input_tokens=input_tokens(body),
        last_user_text=_user_text(last_user),
        max_tokens=max_tokens,
        tool=_chosen_tool(body, messages[-1]),
    )
    return prompt, body.get("stream") is True


def usage(answer: Answer) -> dict[str, object]:
    # Anthropic's input_tokens leaves out what was read from the cache.
    return {
        "input_tokens": answer.input_tokens - answer.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": answer.cached_tokens,
        "output_tokens": answer.output_tokens,
        "service_tier": "standard",
    }


def _event(kind: bytes, payload: dict[str, object]) -> bytes:
    return b"event: " + kind + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


def messages_reply(prompt: Prompt, answer: Answer, stream: bool, odd_shape: bool = False) -> Reply:
    """The answer in Anthropic's shape; `odd_shape`: valid JSON in a shape the API never sends."""
    ident = next_id("msg_")
    tool_id = next_id("toolu_") if answer.tool is not None else ""
    if stream:
        reply = _stream(prompt, answer, ident, tool_id)
        if odd_shape and reply.events is not None:
            # Content events whose data is a bare JSON string: the text with no object around it.
            pieces = iter(answer.pieces)
            reply.events = [
                b"event: content_block_delta\ndata: " + orjson.dumps(next(pieces, "")) + b"\n\n"
                if event.startswith(b"event: content_block_delta")
                else event
                for event in reply.events
            ]
        return reply
    block: dict[str, object]
    if answer.tool is not None:
        arguments = json.loads(answer.content)
        block = {"type": "tool_use", "id": tool_id, "name": answer.tool.name, "input": arguments}
    else:
        block = {"type": "text", "text": answer.content}
    return json_reply(
        {
            "id": ident,
            "type": "message",
            "role": "assistant",
            "model": prompt.model,
            "content": answer.content if odd_shape else [block],
            "stop_reason": STOP_REASON[answer.finish],
            "stop_sequence": None,
            "usage": usage(answer),
        }
    )


def _stream(prompt: Prompt, answer: Answer, ident: str, tool_id: str) -> Reply:
    start_usage = {**usage(answer), "output_tokens": 1}  # Anthropic's running count
    message: dict[str, object] = {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": prompt.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    block: dict[str, object]
    if answer.tool is not None:
        block = {"type": "tool_use", "id": tool_id, "name": answer.tool.name, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in answer.pieces]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in answer.pieces]
    events = [
        _event(b"message_start", {"type": "message_start", "message": message}),
        _event(
            b"content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        ),
        _event(b"ping", {"type": "ping"}),
    ]
    events += [
        _event(b"content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d})
        for d in deltas
    ]
    final_usage = {k: v for k, v in usage(answer).items() if k != "service_tier"}
    events += [
        _event(b"content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event(
            b"message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": STOP_REASON[answer.finish], "stop_sequence": None},
                "usage": final_usage,
            },
        ),
        _event(b"message_stop", {"type": "message_stop"}),
    ]
    malformed = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'
    return Reply(200, SSE_HEADERS, events=events, first_content=3, malformed=malformed)


def count_tokens_reply(body: dict[str, object]) -> Reply:
    return json_reply({"input_tokens": input_tokens(body)})


def models_reply() -> Reply:
    return Reply(200, JSON_HEADERS, MODELS_BODY)
