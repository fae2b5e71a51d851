"""Speak OpenAI: Chat Completions (whole and streamed), Embeddings, Models, and their errors.

Azure OpenAI answers the same bodies on its deployment paths; the app only
changes where the model name and the key come from.
"""

from __future__ import annotations

import time

import orjson

from gateway.mock_provider.answers import (
    MAX_EMBEDDING_DIM,
    Answer,
    Prompt,
    Tool,
    count_words,
    embedding,
    embedding_base64,
)
from gateway.mock_provider.wire import (
    JSON_HEADERS,
    SSE_HEADERS,
    ProviderError,
    Reply,
    as_dict,
    as_list,
    as_str,
    json_reply,
    next_id,
    optional_int,
    require,
    sse_data,
)

MODELS = ("gpt-mock", "gpt-mock-mini", "mock-embedding")
DONE = b"data: [DONE]\n\n"
FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}
# status -> (type, code), as OpenAI spells them.
_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

MODELS_BODY = orjson.dumps(
    {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": "selixes-mock"}
            for name in MODELS
        ],
    }
)


def error_body(status: int, message: str) -> bytes:
    kind, code = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}})


def _text(content: object) -> str:
    """Return the text of a message's content: a string or a list of parts."""
    if isinstance(content, str):
        return content
    return " ".join(as_str(as_dict(part).get("text")) for part in as_list(content))


def _chosen_tool(body: dict[str, object], last_role: str) -> Tool | None:
    functions = [as_dict(as_dict(tool).get("function")) for tool in as_list(body.get("tools"))]
    choice = body.get("tool_choice")
    if not functions or choice == "none" or last_role == "tool":
        return None
    wanted = as_str(as_dict(as_dict(choice).get("function")).get("name"))
    function = next((f for f in functions if f.get("name") == wanted), functions[0])
    return Tool(as_str(function.get("name"), "tool"), as_dict(function.get("parameters")))


def read_chat(body: dict[str, object], model: str) -> tuple[Prompt, bool, bool]:
    """Read a chat request: the prompt, whether to stream, whether to add a usage chunk."""
    messages = [as_dict(m) for m in as_list(body.get("messages"))]
    require(bool(messages), "messages must be a non-empty array")
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    prompt = Prompt(
        model=model,
        input_tokens=count_words(_text(m.get("content")) for m in messages),
        last_user_text=_text(last_user.get("content")),
        max_tokens=optional_int(body, "max_completion_tokens", "max_tokens"),
        tool=_chosen_tool(body, as_str(messages[-1].get("role"))),
    )
    stream = body.get("stream") is True
    include_usage = as_dict(body.get("stream_options")).get("include_usage") is True
    return prompt, stream, include_usage


def usage(answer: Answer) -> dict[str, object]:
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
        "prompt_tokens_details": {"cached_tokens": answer.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_reply(prompt: Prompt, answer: Answer, stream: bool, include_usage: bool) -> Reply:
    ident = next_id("chatcmpl-")
    created = int(time.time())
    call_id = next_id("call_") if answer.tool is not None else ""
    if stream:
        return _chat_stream(prompt, answer, include_usage, ident, created, call_id)
    message: dict[str, object] = {
        "role": "assistant",
        "content": None if answer.tool else answer.content,
        "refusal": None,
        "annotations": [],
    }
    if answer.tool is not None:
        function = {"name": answer.tool.name, "arguments": answer.content}
        message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
    return json_reply(
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": prompt.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": FINISH[answer.finish],
                }
            ],
            "usage": usage(answer),
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
        }
    )


def _chat_stream(
    prompt: Prompt, answer: Answer, include_usage: bool, ident: str, created: int, call_id: str
) -> Reply:
    base: dict[str, object] = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": prompt.model,
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }
    if include_usage:
        base["usage"] = None  # as OpenAI does: null on every chunk but the last

    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse_data({**base, "choices": [choice]})

    if answer.tool is not None:
        function = {"name": answer.tool.name, "arguments": ""}
        call = {"index": 0, "id": call_id, "type": "function", "function": function}
        first = chunk({"role": "assistant", "content": None, "tool_calls": [call]})
        events = [first] + [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in answer.pieces
        ]
    else:
        first = chunk({"role": "assistant", "content": "", "refusal": None})
        events = [first] + [chunk({"content": piece}) for piece in answer.pieces]
    events.append(chunk({}, FINISH[answer.finish]))
    if include_usage:
        events.append(sse_data({**base, "choices": [], "usage": usage(answer)}))
    events.append(DONE)
    malformed = (
        b'data: {"id": "' + ident.encode() + b'", "object": "chat.completion.chunk", "choi\n\n'
    )
    return Reply(200, SSE_HEADERS, events=events, first_content=1, malformed=malformed)


def embeddings_reply(body: dict[str, object], model: str, default_dim: int) -> Reply:
    """Embed a string, a list of strings, or token arrays, deterministically."""
    raw = body.get("input")
    inputs = raw if isinstance(raw, list) else [raw]
    if inputs and all(isinstance(i, int) for i in inputs):
        inputs = [inputs]  # one token array, not many one-token inputs
    texts: list[str] = []
    tokens = 0
    for item in inputs:
        if isinstance(item, str) and item:
            texts.append(item)
            tokens += len(item.split())
        elif isinstance(item, list) and item and all(isinstance(i, int) for i in item):
            texts.append(" ".join(str(i) for i in item))
            tokens += len(item)
        else:
            raise ProviderError(400, "input must be a non-empty string, array of strings or tokens")
    require(bool(texts), "input must not be empty")
    dim = optional_int(body, "dimensions") or default_dim
    require(dim <= MAX_EMBEDDING_DIM, f"dimensions must be at most {MAX_EMBEDDING_DIM}")
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embedding(text, dim)
        encoded: object = embedding_base64(vector) if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return json_reply(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def models_reply() -> Reply:
    return Reply(200, JSON_HEADERS, MODELS_BODY)
