"""Anthropic Messages request (what /v1/messages receives) -> canonical OpenAI chat request."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.providers.base import JSON


def to_openai_request(body: JSON) -> JSON:
    """Translate an Anthropic Messages body into a canonical chat request.

    Anthropic-only fields (cache_control, thinking, top_k, server tools'
    settings) have no canonical meaning and are dropped; a request that needs
    them reaches an Anthropic deployment through the native passthrough.
    """
    messages: list[JSON] = []
    system = body.get("system")
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    elif isinstance(system, list) and system:
        messages.append({"role": "system", "content": _text_parts(system)})
    turns = body.get("messages")
    if not isinstance(turns, list):
        raise InvalidRequest("'messages' must be a list.", param="messages")
    for turn in turns:
        if not isinstance(turn, dict):
            raise InvalidRequest("Each message must be an object.", param="messages")
        role = turn.get("role")
        if role == "user":
            messages.extend(_user(turn.get("content")))
        elif role == "assistant":
            messages.append(_assistant(turn.get("content")))
        else:
            raise InvalidRequest(f"Unsupported message role {role!r}.", param="messages")

    out: JSON = {"model": body.get("model"), "messages": messages}
    if body.get("max_tokens") is not None:
        out["max_completion_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        out["user"] = metadata["user_id"]
    _tools(body, out)
    if body.get("stream") is True:
        out["stream"] = True
        # Anthropic streams always end with usage: ask for it on the canonical side too.
        out["stream_options"] = {"include_usage": True}
    return out


def _text_parts(blocks: list[Any]) -> list[JSON]:
    return [
        {"type": "text", "text": b.get("text", "")}
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "text"
    ]


def _image_part(source: Any) -> JSON:
    if not isinstance(source, dict):
        raise InvalidRequest("An image block needs a source.", param="messages")
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    elif source.get("type") == "url":
        url = source.get("url", "")
    else:
        raise InvalidRequest("Only base64 and url image sources can be translated.")
    return {"type": "image_url", "image_url": {"url": url}}


def _document_part(source: Any) -> JSON:
    if not isinstance(source, dict) or source.get("type") != "base64":
        raise InvalidRequest("Only base64 documents can be translated.", param="messages")
    media_type = source.get("media_type", "application/pdf")
    data = f"data:{media_type};base64,{source.get('data', '')}"
    return {"type": "file", "file": {"file_data": data}}


def _user(content: Any) -> list[JSON]:
    """Return the canonical messages of one user turn: tool results first, then the rest."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    if not isinstance(content, list):
        raise InvalidRequest("Message content must be a string or a list.", param="messages")
    results: list[JSON] = []
    parts: list[JSON] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            parts.append(_image_part(block.get("source")))
        elif kind == "document":
            parts.append(_document_part(block.get("source")))
        elif kind == "tool_result":
            results.append(_tool_result(block, parts))
        else:
            raise InvalidRequest(f"Content block {kind!r} cannot be translated.", param="messages")
    if parts:
        results.append({"role": "user", "content": parts})
    return results


def _tool_result(block: JSON, parts: list[JSON]) -> JSON:
    content = block.get("content")
    if isinstance(content, list):
        texts = _text_parts(content)
        # OpenAI tool messages hold text only: images travel in the user message after them.
        parts.extend(
            _image_part(b.get("source"))
            for b in content
            if isinstance(b, dict) and b.get("type") == "image"
        )
        text: str | list[JSON] = texts
    else:
        text = content if isinstance(content, str) else ""
    return {"role": "tool", "tool_call_id": block.get("tool_use_id", ""), "content": text}


def _assistant(content: Any) -> JSON:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    if not isinstance(content, list):
        raise InvalidRequest("Message content must be a string or a list.", param="messages")
    texts: list[str] = []
    calls: list[JSON] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {
                        "name": block.get("name", ""),
                        "arguments": orjson.dumps(block.get("input") or {}).decode(),
                    },
                }
            )
        # thinking and redacted_thinking blocks are signed for Anthropic only: dropped.
    message: JSON = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tools(body: JSON, out: JSON) -> None:
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        converted = []
        for tool in tools:
            if not isinstance(tool, dict) or tool.get("type", "custom") != "custom":
                kind = tool.get("type") if isinstance(tool, dict) else None
                raise InvalidRequest(
                    f"Tool type {kind!r} is only available on Anthropic deployments.",
                    param="tools",
                )
            function: JSON = {"name": tool.get("name", "")}
            if tool.get("description"):
                function["description"] = tool["description"]
            function["parameters"] = tool.get("input_schema") or {"type": "object"}
            converted.append({"type": "function", "function": function})
        out["tools"] = converted
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "auto":
        out["tool_choice"] = "auto"
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name", "")}}
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
