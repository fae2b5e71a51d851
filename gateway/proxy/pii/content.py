"""Find every text a provider would see (requests) or a caller would get (answers), and redact it.

Requests are redacted in place, in the client's own form, before the
upstream stage translates them or passes them through natively, so one walk
covers every path:

- OpenAI chat: message `content` (a string or parts: `text`, `refusal`),
  system and developer messages, tool results, `tool_calls[].function.arguments`
  and the legacy `function_call.arguments` (JSON strings: the string values
  are scanned, keys are not), the assistant's `refusal`, `user`,
  `safety_identifier`, `prediction.content`, and the values of `metadata`
  (OpenAI stores them with the completion and shows them in its logs);
- Anthropic /v1/messages: `system` (string or blocks), content blocks
  (`text`, `tool_use.input` at any depth, `tool_result.content`, plain-text
  `document` sources), `metadata.user_id`;
- both: the schemas the model reads - tool definitions (`tools[].function`
  or Anthropic's `tools[]`: descriptions, parameter schemas) and response
  schemas (`response_format.json_schema`, Anthropic's `output_format` and
  `output_config.format`) - their descriptions, titles, enums, examples,
  defaults and constants; an email written into a schema reaches the model
  like one in a message;
- embeddings: `input` strings (token-id arrays pass as they are).

Not scanned, on purpose: message and tool `name` fields (OpenAI allows only
`[A-Za-z0-9_-]{1,64}` there, so a mask would break the request; they label
participants rather than carry prose), a schema's structural words (its
keys, `type`, `required`, `format`, `pattern`, `$ref`: masking them breaks
the schema, and they name fields rather than hold values), binary
attachments (images, audio, PDFs: base64 cannot be scanned as text), and
thinking blocks (the provider wrote them and signs them; changing one breaks
the signature).

Inside tool arguments and tool inputs every string value is scanned, whatever
its key (`{"name": "Ada Lovelace"}` is user data there). Nesting deeper than
MAX_DEPTH is refused with 400 rather than walked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.pii.answer_fields import (
    ANTHROPIC_ANSWER_WORDS,
    CHOICE_WORDS,
    OPENAI_ANSWER_WORDS,
)

MAX_DEPTH = 64
JSON = dict[str, Any]
Scan = Callable[[str], str]

# Structural keys of messages and blocks: identifiers, roles, binary payloads.
_SKIP = frozenset(
    {
        "role",
        "type",
        "id",
        "name",
        "tool_call_id",
        "tool_use_id",
        "image_url",
        "input_audio",
        "file",
        "audio",
        "cache_control",
        "signature",
        "thinking",
        "redacted_thinking",
        "media_type",
        "url",
        "citations",
        "model",
        "encrypted_content",
        "encrypted_index",
    }
)


def _too_deep() -> InvalidRequest:
    return InvalidRequest(
        f"The request's content is nested deeper than {MAX_DEPTH} levels.", code="too_deep"
    )


def scan_values(value: Any, scan: Scan, depth: int = 0, skip: frozenset[str] = frozenset()) -> Any:
    """Return a JSON value with every string in it scanned (keys kept), but under `skip` keys."""
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        return scan(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip and isinstance(item, (str, dict, list)):
                value[key] = scan_values(item, scan, depth + 1, skip)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (str, dict, list)):
                value[index] = scan_values(item, scan, depth + 1, skip)
    return value


# Words of a JSON schema that structure it rather than hold values (module docstring).
_SCHEMA_STRUCTURE = frozenset(
    {
        "type",
        "required",
        "format",
        "pattern",
        "$ref",
        "$schema",
        "$id",
        "name",
        "strict",
        "cache_control",
    }
)
# Whose values are instances, not schemas: every string in them is scanned.
_SCHEMA_LITERALS = frozenset({"examples", "example", "default", "const", "enum"})
# Whose keys are the developer's property names and whose every value is a schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})


def _schema(value: Any, scan: Scan, depth: int) -> Any:
    """Scan a tool or response schema's strings, its structural words excepted."""
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        return scan(value)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (str, dict, list)):
                value[index] = _schema(item, scan, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in _SCHEMA_LITERALS:
                # Example and default values are data: their keys are not schema words.
                value[key] = scan_values(item, scan, depth + 1)
            elif key in _SCHEMA_MAPS and isinstance(item, dict):
                # A property may be called "name" or "type": its schema is scanned all the same.
                for name, schema in item.items():
                    item[name] = _schema(schema, scan, depth + 2)
            elif key not in _SCHEMA_STRUCTURE and isinstance(item, (str, dict, list)):
                value[key] = _schema(item, scan, depth + 1)
    return value


def _schemas(payload: JSON, dialect: str, scan: Scan) -> None:
    """Scan the tool definitions and the response schema the model reads."""
    tools = payload.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            if not isinstance(tool, dict):
                continue
            # OpenAI nests a function tool's definition; Anthropic's tools are flat.
            function = tool.get("function")
            _schema(function if isinstance(function, dict) else tool, scan, 1)
    functions = payload.get("functions")  # OpenAI's legacy form of tools
    if isinstance(functions, list):
        _schema(functions, scan, 0)
    if dialect == "anthropic":
        _schema(payload.get("output_format"), scan, 0)
        config = payload.get("output_config")
        if isinstance(config, dict):
            _schema(config.get("format"), scan, 1)
        return
    response_format = payload.get("response_format")
    if isinstance(response_format, dict):
        _schema(response_format.get("json_schema"), scan, 1)


def scan_arguments(arguments: str, scan: Scan, depth: int) -> str:
    """Scan a JSON-string of tool arguments value by value; text that is not JSON as text."""
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return scan(arguments)
    if isinstance(parsed, str):
        return orjson.dumps(scan(parsed)).decode()
    if not isinstance(parsed, (dict, list)):
        return arguments  # a number or a boolean holds no text
    return orjson.dumps(scan_values(parsed, scan, depth + 1)).decode()


def _structure(value: Any, scan: Scan, depth: int) -> Any:
    """Walk message structure: text fields scanned, structural and binary fields skipped."""
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        return scan(value)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (str, dict, list)):
                value[index] = _structure(item, scan, depth + 1)
        return value
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    for key, item in value.items():
        if key in _SKIP or not isinstance(item, (str, dict, list)):
            continue
        if key == "arguments" and isinstance(item, str):
            value[key] = scan_arguments(item, scan, depth)
        elif key == "input" and kind == "tool_use":
            value[key] = scan_values(item, scan, depth + 1)
        elif key == "data" and kind != "text":
            continue  # base64 images and documents, redacted thinking
        else:
            value[key] = _structure(item, scan, depth + 1)
    return value


def redact_request(payload: JSON, operation: str, dialect: str, scan: Scan) -> None:
    """Scan, in place, every text of a parsed request the provider would see."""
    if operation == "embeddings":
        given = payload.get("input")
        if isinstance(given, str):
            payload["input"] = scan(given)
        elif isinstance(given, list):
            payload["input"] = [scan(item) if isinstance(item, str) else item for item in given]
        return
    messages = payload.get("messages")
    if isinstance(messages, list):
        _structure(messages, scan, 0)
    _schemas(payload, dialect, scan)
    if dialect == "anthropic":
        system = payload.get("system")
        if isinstance(system, (str, list)):
            payload["system"] = _structure(system, scan, 0)
        metadata = payload.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
            metadata["user_id"] = scan(metadata["user_id"])
        return
    for field in ("user", "safety_identifier"):
        if isinstance(payload.get(field), str):
            payload[field] = scan(payload[field])
    metadata = payload.get("metadata")
    if isinstance(metadata, dict):
        # Keys are the developer's labels; values are whatever the app put there.
        scan_values(metadata, scan)
    prediction = payload.get("prediction")
    if isinstance(prediction, dict) and isinstance(prediction.get("content"), (str, list)):
        prediction["content"] = _structure(prediction["content"], scan, 0)


def redact_answer(answer: Any, dialect: str, scan: Scan) -> Any:
    """Scan, in place, the text and tool calls of a non-streamed answer in the client's form.

    Return the answer. A part whose shape is not the API's (the answer itself not an
    object, `choices` or `content` not a list, a choice or message not an object) has
    every string in it scanned, so nothing leaves unscanned because it looked unusual.
    """
    if not isinstance(answer, dict):
        return scan_values(answer, scan)
    if dialect == "anthropic":
        content = answer.get("content")
        if isinstance(content, list):
            _structure(content, scan, 0)
        elif isinstance(content, (str, dict)):
            answer["content"] = scan_values(content, scan)
        _scan_other_fields(answer, ANTHROPIC_ANSWER_WORDS, scan)
        return answer
    choices = answer.get("choices")
    if not isinstance(choices, list):
        if isinstance(choices, (str, dict)):
            answer["choices"] = scan_values(choices, scan)
        _scan_other_fields(answer, OPENAI_ANSWER_WORDS, scan)
        return answer
    for index, choice in enumerate(choices):
        if not isinstance(choice, dict):
            choices[index] = scan_values(choice, scan)
            continue
        if "logprobs" in choice:
            choice["logprobs"] = None  # token by token, the answer's text again
        for key, item in choice.items():
            if key == "message" and isinstance(item, dict):
                _structure(item, scan, 0)
            elif key not in CHOICE_WORDS and isinstance(item, (str, dict, list)):
                # A legacy `text`, a server's own field: text all the same.
                choice[key] = scan_values(item, scan)
    _scan_other_fields(answer, OPENAI_ANSWER_WORDS, scan)
    return answer


def _scan_other_fields(answer: dict[str, Any], words: frozenset[str], scan: Scan) -> None:
    for key, item in answer.items():
        if key not in words and isinstance(item, (str, dict, list)):
            answer[key] = scan_values(item, scan)
