"""Canonical (OpenAI) chat request -> Anthropic Messages request body."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.providers.base import JSON
from gateway.proxy.providers.common import (
    messages_of,
    parse_data_url,
    text_of,
    tool_call_arguments,
)

# Anthropic requires max_tokens; OpenAI lets the model run to its limit.
DEFAULT_MAX_TOKENS = 4096
# reasoning_effort -> extended-thinking budget (Anthropic's minimum is 1024).
THINKING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}


def anthropic_body(body: JSON, model: str, stream: bool) -> JSON:
    """Translate a canonical chat request into an Anthropic Messages body."""
    system: list[str] = []
    turns: list[JSON] = []
    for message in messages_of(body):
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text_of(message.get("content")))
        elif role == "user":
            _add_turn(turns, "user", _user_content(message.get("content")))
        elif role == "assistant":
            _add_turn(turns, "assistant", _assistant_content(message))
        elif role == "tool":
            _add_turn(turns, "user", [_tool_result(message)])
        else:
            raise InvalidRequest(f"Unsupported message role {role!r}.", param="messages")

    out: JSON = {"model": model, "messages": turns}
    limit = body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_TOKENS
    out["max_tokens"] = limit
    instruction = _response_format_instruction(body.get("response_format"))
    if instruction:
        system.append(instruction)
    if system:
        out["system"] = "\n\n".join(s for s in system if s)
    if body.get("n") not in (None, 1):
        raise InvalidRequest("Anthropic models return one choice: 'n' must be 1.", param="n")
    thinking = _thinking(body.get("reasoning_effort"), limit)
    if thinking:
        # Extended thinking refuses a changed temperature or top_p.
        out["thinking"] = thinking
    else:
        temperature = body.get("temperature")
        if isinstance(temperature, int | float):
            # OpenAI's range is 0-2, Anthropic's 0-1: clamp rather than fail.
            out["temperature"] = min(float(temperature), 1.0)
        if body.get("top_p") is not None:
            out["top_p"] = body["top_p"]
        if body.get("top_k") is not None:
            out["top_k"] = body["top_k"]
    stop = body.get("stop")
    if isinstance(stop, str):
        out["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        out["stop_sequences"] = stop
    if isinstance(body.get("user"), str):
        out["metadata"] = {"user_id": body["user"]}
    _tools(body, out)
    if stream:
        out["stream"] = True
    return out


def _add_turn(turns: list[JSON], role: str, content: str | list[JSON]) -> None:
    """Append a turn, merging it into the previous one of the same role (Anthropic alternates)."""
    if not content:
        return
    if turns and turns[-1]["role"] == role:
        previous = turns[-1]["content"]
        if isinstance(previous, str):
            previous = [{"type": "text", "text": previous}]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        turns[-1]["content"] = previous + content
        return
    turns.append({"role": role, "content": content})


def _user_content(content: object) -> str | list[JSON]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest("Message content must be a string or a list.", param="messages")
    return [_part(p) for p in content]


def _part(part: Any) -> JSON:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        block: JSON = {"type": "text", "text": part.get("text", "")}
    elif kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str):
            raise InvalidRequest("An image_url part needs a url.", param="messages")
        block = {"type": "image", "source": _source(url)}
    elif kind == "file":
        file = part.get("file") if isinstance(part.get("file"), dict) else {}
        data = file.get("file_data")
        parsed = parse_data_url(data) if isinstance(data, str) else None
        if parsed is None:
            raise InvalidRequest("Only inline file_data files reach Anthropic.", param="messages")
        block = {
            "type": "document",
            "source": {"type": "base64", "media_type": parsed[0], "data": parsed[1]},
        }
    else:
        raise InvalidRequest(f"Content part {kind!r} is not supported by Anthropic.")
    if isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _source(url: str) -> JSON:
    parsed = parse_data_url(url)
    if parsed is not None:
        return {"type": "base64", "media_type": parsed[0], "data": parsed[1]}
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    raise InvalidRequest("Image URLs must be http(s) or base64 data: URLs.", param="messages")


def _assistant_content(message: JSON) -> str | list[JSON]:
    content = message.get("content")
    if isinstance(content, str) and not message.get("tool_calls"):
        return content
    blocks: list[JSON] = []
    if isinstance(content, list):
        blocks.extend(
            _part(p)
            for p in content
            if isinstance(p, dict) and p.get("type") == "text" and p.get("text")
        )
    elif isinstance(content, str) and content:
        blocks.append({"type": "text", "text": content})
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            raise InvalidRequest("Each tool call needs a function.", param="messages")
        function = call["function"]
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id", ""),
                "name": function.get("name", ""),
                "input": tool_call_arguments(function.get("arguments")),
            }
        )
    return blocks


def _tool_result(message: JSON) -> JSON:
    content = message.get("content")
    result: JSON = {"type": "tool_result", "tool_use_id": message.get("tool_call_id", "")}
    if isinstance(content, list):
        result["content"] = [
            {"type": "text", "text": p.get("text", "")}
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        ]
    else:
        result["content"] = content if isinstance(content, str) else ""
    return result


def _tools(body: JSON, out: JSON) -> None:
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        converted = []
        for tool in tools:
            if not isinstance(tool, dict) or not isinstance(tool.get("function"), dict):
                raise InvalidRequest("Only function tools reach Anthropic.", param="tools")
            function = tool["function"]
            if tool.get("type", "function") != "function":
                raise InvalidRequest("Only function tools reach Anthropic.", param="tools")
            entry: JSON = {
                "name": function.get("name", ""),
                "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
            }
            if function.get("description"):
                entry["description"] = function["description"]
            converted.append(entry)
        out["tools"] = converted
    choice = _tool_choice(body.get("tool_choice"))
    if body.get("parallel_tool_calls") is False and out.get("tools"):
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None:
        out["tool_choice"] = choice


def _tool_choice(choice: object) -> JSON | None:
    if choice is None:
        return None
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": choice["function"].get("name", "")}
    raise InvalidRequest("Unsupported tool_choice.", param="tool_choice")


def _response_format_instruction(response_format: object) -> str | None:
    """Ask for JSON in words: Anthropic has no response_format (best effort, documented)."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return "Respond with a single valid JSON object and nothing else."
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return (
            "Respond with a single JSON object that validates against this JSON Schema, "
            "and nothing else:\n" + orjson.dumps(schema or {}).decode()
        )
    return None


def _thinking(effort: object, max_tokens: object) -> JSON | None:
    budget = THINKING_BUDGETS.get(effort) if isinstance(effort, str) else None
    if budget is None or not isinstance(max_tokens, int):
        return None
    # The budget must stay below max_tokens; too small a limit leaves thinking off.
    budget = min(budget, max_tokens - 1)
    if budget < 1024:
        return None
    return {"type": "enabled", "budget_tokens": budget}
