"""Speak Gemini: generateContent, streamGenerateContent (SSE or JSON array), embeddings, errors.

Like the real API, usageMetadata leaves out counts that are zero
(cachedContentTokenCount, thoughtsTokenCount), and SSE events end in CRLF.
"""

from __future__ import annotations

import json

import orjson

from gateway.mock_provider.answers import (
    MAX_EMBEDDING_DIM,
    Answer,
    Prompt,
    Tool,
    count_words,
    embedding,
)
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

MODELS = ("gemini-mock", "gemini-mock-embedding")
FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool": "STOP"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

MODELS_BODY = orjson.dumps(
    {
        "models": [
            {
                "name": f"models/{name}",
                "displayName": name,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent"]
                if "embedding" not in name
                else ["embedContent", "batchEmbedContents"],
            }
            for name in MODELS
        ]
    }
)


def error_body(status: int, message: str) -> bytes:
    code = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return orjson.dumps({"error": {"code": status, "message": message, "status": code}})


def _parts(content: object) -> list[dict[str, object]]:
    return [as_dict(part) for part in as_list(as_dict(content).get("parts"))]


def _chosen_tool(body: dict[str, object], last: dict[str, object]) -> Tool | None:
    declarations = [
        as_dict(declaration)
        for tool in map(as_dict, as_list(body.get("tools")))
        for declaration in as_list(
            tool.get("functionDeclarations", tool.get("function_declarations"))
        )
    ]
    config = as_dict(as_dict(body.get("toolConfig")).get("functionCallingConfig"))
    answered = any("functionResponse" in part for part in _parts(last))
    if not declarations or config.get("mode") == "NONE" or answered:
        return None
    allowed = as_list(config.get("allowedFunctionNames"))
    tool = next((d for d in declarations if d.get("name") in allowed), declarations[0])
    return Tool(as_str(tool.get("name"), "tool"), as_dict(tool.get("parameters")))


def read_generate(body: dict[str, object], model: str) -> Prompt:
    """Read a generateContent request for `model` (from the path)."""
    contents = [as_dict(c) for c in as_list(body.get("contents"))]
    require(bool(contents), "contents must not be empty")
    system = body.get("systemInstruction", body.get("system_instruction"))
    texts = [as_str(p.get("text")) for p in _parts(system)]
    for content in contents:
        texts += [as_str(p.get("text")) for p in _parts(content)]
    last_user = next((c for c in reversed(contents) if c.get("role", "user") == "user"), {})
    config = as_dict(body.get("generationConfig"))
    return Prompt(
        model=model,
        input_tokens=count_words(texts),
        last_user_text=" ".join(as_str(p.get("text")) for p in _parts(last_user)),
        max_tokens=optional_int(config, "maxOutputTokens"),
        tool=_chosen_tool(body, contents[-1]),
    )


def _usage(answer: Answer, visible: int) -> dict[str, int]:
    usage = {
        "promptTokenCount": answer.input_tokens,
        "candidatesTokenCount": visible,
        "totalTokenCount": answer.input_tokens + visible + answer.reasoning_tokens,
    }
    if answer.cached_tokens:
        usage["cachedContentTokenCount"] = answer.cached_tokens
    if answer.reasoning_tokens:
        usage["thoughtsTokenCount"] = answer.reasoning_tokens
    return usage


def _response(
    prompt: Prompt, answer: Answer, ident: str, part: dict[str, object], visible: int, last: bool
) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"parts": [part], "role": "model"}, "index": 0}
    if last:
        candidate["finishReason"] = FINISH[answer.finish]
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(answer, visible),
        "modelVersion": prompt.model,
        "responseId": ident,
    }


def generate_reply(prompt: Prompt, answer: Answer, stream: bool, sse: bool) -> Reply:
    """Answer generateContent, or streamGenerateContent as SSE or as a streamed JSON array."""
    ident = next_id("")
    if answer.tool is not None:
        call = {"name": answer.tool.name, "args": json.loads(answer.content)}
        responses = [
            _response(prompt, answer, ident, {"functionCall": call}, len(answer.pieces), True)
        ]
    elif stream:
        count = len(answer.pieces)
        responses = [
            _response(prompt, answer, ident, {"text": piece}, n, n == count)
            for n, piece in enumerate(answer.pieces, 1)
        ]
    else:
        part: dict[str, object] = {"text": answer.content}
        responses = [_response(prompt, answer, ident, part, len(answer.pieces), True)]
    if not stream:
        return json_reply(responses[0])
    if sse:
        events = [b"data: " + orjson.dumps(r) + b"\r\n\r\n" for r in responses]
        malformed = b'data: {"candidates": [{"content": {"par\r\n\r\n'
        return Reply(200, SSE_HEADERS, events=events, malformed=malformed)
    # Without alt=sse Gemini streams one JSON array, an element at a time.
    events = [b"[" + orjson.dumps(responses[0])]
    events += [b",\r\n" + orjson.dumps(r) for r in responses[1:]]
    events[-1] += b"]"
    return Reply(200, JSON_HEADERS, events=events, malformed=b',\r\n{"candidates": [{')


def _vector(request: dict[str, object], default_dim: int) -> dict[str, list[float]]:
    texts = [as_str(p.get("text")) for p in _parts(request.get("content"))]
    text = " ".join(texts)
    require(bool(text.strip()), "content must have a non-empty text part")
    dim = optional_int(request, "outputDimensionality") or default_dim
    require(dim <= MAX_EMBEDDING_DIM, f"outputDimensionality must be at most {MAX_EMBEDDING_DIM}")
    return {"values": embedding(text, dim)}


def embed_reply(body: dict[str, object], default_dim: int) -> Reply:
    return json_reply({"embedding": _vector(body, default_dim)})


def batch_embed_reply(body: dict[str, object], default_dim: int) -> Reply:
    requests = [as_dict(r) for r in as_list(body.get("requests"))]
    require(bool(requests), "requests must not be empty")
    return json_reply({"embeddings": [_vector(r, default_dim) for r in requests]})


def models_reply() -> Reply:
    return Reply(200, JSON_HEADERS, MODELS_BODY)
