"""Canonical (OpenAI) chat request -> Gemini `generateContent` request body."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.providers.base import JSON
from gateway.proxy.providers.common import (
    messages_of,
    parse_data_url,
    text_of,
    tool_call_arguments,
)
from gateway.proxy.providers.gemini.schema import gemini_schema

# Gemini's thought signature for a function call travels inside the tool call id
# we hand the client (OpenAI has no field for it) and is restored from it, since
# Gemini 3 refuses a replayed function call without its signature. It is written
# in unpadded base64url so the id stays within [A-Za-z0-9_-], which Anthropic
# requires of tool ids should the conversation move there.
SIGNATURE_MARK = "__sig__"


def signature_to_id(signature: str) -> str:
    return signature.replace("+", "-").replace("/", "_").rstrip("=")


def signature_from_id(encoded: str) -> str:
    standard = encoded.replace("-", "+").replace("_", "/")
    return standard + "=" * (-len(standard) % 4)


# Google's documented stand-in when a call's signature is unknown (history that
# came from another provider): it lets validation pass on Gemini 3 models.
SKIP_SIGNATURE = "skip_thought_signature_validator"
THINKING_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}
FUNCTION_CALLING_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def gemini_body(body: JSON, model: str) -> JSON:
    """Translate a canonical chat request into a Gemini GenerateContentRequest."""
    system: list[str] = []
    contents: list[JSON] = []
    names: dict[str, str] = {}  # tool call id -> function name, for functionResponse
    for message in messages_of(body):
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text_of(message.get("content")))
        elif role == "user":
            _add(contents, "user", _user_parts(message.get("content")))
        elif role == "assistant":
            _add(contents, "model", _model_parts(message, names, _needs_signature(model)))
        elif role == "tool":
            _add(contents, "user", [_function_response(message, names)])
        else:
            raise InvalidRequest(f"Unsupported message role {role!r}.", param="messages")
    out: JSON = {"contents": contents}
    if any(system):
        out["systemInstruction"] = {"parts": [{"text": "\n\n".join(s for s in system if s)}]}
    _tools(body, out)
    config = _generation_config(body)
    if config:
        out["generationConfig"] = config
    return out


def _needs_signature(model: str) -> bool:
    # Gemini 1.x/2.x and Gemma ignore signatures; later models require them.
    name = model.removeprefix("models/")
    return not name.startswith(("gemini-1", "gemini-2", "gemma"))


def _add(contents: list[JSON], role: str, parts: list[JSON]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _user_parts(content: object) -> list[JSON]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise InvalidRequest("Message content must be a string or a list.", param="messages")
    return [_part(p) for p in content]


def _part(part: Any) -> JSON:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        return {"text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str):
            raise InvalidRequest("An image_url part needs a url.", param="messages")
        inline = parse_data_url(url)
        if inline is not None:
            return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
        if not url.startswith(("https://", "http://")):
            raise InvalidRequest("Image URLs must be http(s) or base64 data: URLs.")
        guessed = mimetypes.guess_type(urlsplit(url).path)[0] or "image/jpeg"
        return {"fileData": {"mimeType": guessed, "fileUri": url}}
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        return {
            "inlineData": {
                "mimeType": f"audio/{audio.get('format', 'wav')}",
                "data": audio.get("data", ""),
            }
        }
    if kind == "file":
        data = (part.get("file") or {}).get("file_data")
        inline = parse_data_url(data) if isinstance(data, str) else None
        if inline is None:
            raise InvalidRequest("Only inline file_data files reach Gemini.", param="messages")
        return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
    raise InvalidRequest(f"Content part {kind!r} is not supported by Gemini.", param="messages")


def _model_parts(message: JSON, names: dict[str, str], needs_signature: bool) -> list[JSON]:
    content = message.get("content")
    text = text_of(content)
    parts: list[JSON] = [{"text": text}] if text else []
    calls: list[JSON] = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            raise InvalidRequest("Each tool call needs a function.", param="messages")
        function = call["function"]
        call_id = str(call.get("id", ""))
        names[call_id] = function.get("name", "")
        part: JSON = {
            "functionCall": {
                "name": function.get("name", ""),
                "args": tool_call_arguments(function.get("arguments")),
            }
        }
        _, mark, signature = call_id.partition(SIGNATURE_MARK)
        if mark:
            part["thoughtSignature"] = signature_from_id(signature)
        calls.append(part)
    if needs_signature and calls and not any("thoughtSignature" in c for c in calls):
        # Only the first call of a parallel set carries a signature.
        calls[0]["thoughtSignature"] = SKIP_SIGNATURE
    return parts + calls


def _function_response(message: JSON, names: dict[str, str]) -> JSON:
    call_id = str(message.get("tool_call_id", ""))
    if call_id not in names:
        raise InvalidRequest(
            f"Tool result {call_id!r} answers no earlier tool call.", param="messages"
        )
    return {
        "functionResponse": {
            "name": names[call_id],
            "response": {"result": text_of(message.get("content"))},
        }
    }


def _tools(body: JSON, out: JSON) -> None:
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        declarations = []
        for tool in tools:
            if not isinstance(tool, dict) or not isinstance(tool.get("function"), dict):
                raise InvalidRequest("Only function tools reach Gemini.", param="tools")
            function = tool["function"]
            declaration: JSON = {"name": function.get("name", "")}
            if function.get("description"):
                declaration["description"] = function["description"]
            parameters = function.get("parameters")
            # A function without parameters must omit them: an empty object schema is refused.
            if isinstance(parameters, dict) and parameters.get("properties"):
                declaration["parameters"] = gemini_schema(parameters)
            declarations.append(declaration)
        out["tools"] = [{"functionDeclarations": declarations}]
    choice = body.get("tool_choice")
    if choice is None:
        return
    if isinstance(choice, str) and choice in FUNCTION_CALLING_MODES:
        config: JSON = {"mode": FUNCTION_CALLING_MODES[choice]}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        config = {"mode": "ANY", "allowedFunctionNames": [choice["function"].get("name", "")]}
    else:
        raise InvalidRequest("Unsupported tool_choice.", param="tool_choice")
    out["toolConfig"] = {"functionCallingConfig": config}


def _generation_config(body: JSON) -> JSON:
    config: JSON = {}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        config["maxOutputTokens"] = limit
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("n", "candidateCount"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        if body.get(ours) is not None:
            config[theirs] = body[ours]
    stop = body.get("stop")
    if isinstance(stop, str):
        config["stopSequences"] = [stop]
    elif isinstance(stop, list) and stop:
        config["stopSequences"] = stop
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        if response_format.get("type") in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
        spec = response_format.get("json_schema")
        if response_format.get("type") == "json_schema" and isinstance(spec, dict):
            config["responseSchema"] = gemini_schema(spec.get("schema"))
    effort = body.get("reasoning_effort")
    if isinstance(effort, str) and effort in THINKING_BUDGETS:
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGETS[effort]}
    return config
