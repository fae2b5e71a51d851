"""Gemini on the wire: generateContent, streamGenerateContent (SSE and array), embeddings."""

from __future__ import annotations

import httpx
import orjson

from tests.gateway.mock_provider.conftest import GEMINI, sse_json

GENERATE = "/v1beta/models/gemini-mock:generateContent"
STREAM = "/v1beta/models/gemini-mock:streamGenerateContent"


def contents(text: str = "Tell me a joke", **extra: object) -> dict[str, object]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def test_generate_content_answers_a_candidate_with_usage_metadata(mock: httpx.Client) -> None:
    body = contents(systemInstruction={"parts": [{"text": "Be funny."}]})
    response = mock.post(GENERATE, json=body, headers=GEMINI)
    assert response.status_code == 200
    answer = response.json()
    (candidate,) = answer["candidates"]
    assert candidate["content"] == {
        "parts": [{"text": "Mock answer to: Tell me a joke"}],
        "role": "model",
    }
    assert candidate["finishReason"] == "STOP"
    assert answer["usageMetadata"] == {
        "promptTokenCount": 6,
        "candidatesTokenCount": 7,
        "totalTokenCount": 13,
    }
    assert answer["modelVersion"] == "gemini-mock"


def test_cached_and_thought_tokens_appear_only_when_there_are_some(mock: httpx.Client) -> None:
    headers = {**GEMINI, "x-mock-scenario": "cached:2,reasoning:5"}
    usage = mock.post(GENERATE, json=contents(), headers=headers).json()["usageMetadata"]
    assert usage == {
        "promptTokenCount": 4,
        "candidatesTokenCount": 7,
        "cachedContentTokenCount": 2,
        "thoughtsTokenCount": 5,
        "totalTokenCount": 16,
    }


def test_max_output_tokens_ends_with_finish_reason_max_tokens(mock: httpx.Client) -> None:
    body = contents(generationConfig={"maxOutputTokens": 2})
    candidate = mock.post(GENERATE, json=body, headers=GEMINI).json()["candidates"][0]
    assert candidate["content"]["parts"][0]["text"] == "Mock answer"
    assert candidate["finishReason"] == "MAX_TOKENS"


def test_an_sse_stream_sends_one_response_per_chunk_with_growing_usage(
    mock: httpx.Client,
) -> None:
    response = mock.post(f"{STREAM}?alt=sse", json=contents("Hi"), headers=GEMINI)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "\r\n\r\n" in response.text
    chunks = sse_json(response.text)
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == "Mock answer to: Hi"
    assert [c["usageMetadata"]["candidatesTokenCount"] for c in chunks] == [1, 2, 3, 4]
    assert "finishReason" not in chunks[0]["candidates"][0]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_a_stream_without_alt_sse_is_one_json_array(mock: httpx.Client) -> None:
    response = mock.post(STREAM, json=contents("Hi"), headers=GEMINI)
    chunks = orjson.loads(response.content)
    assert isinstance(chunks, list)
    assert len(chunks) == 4


def test_function_declarations_get_a_function_call(mock: httpx.Client) -> None:
    declaration = {
        "name": "lookup",
        "parameters": {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}},
    }
    body = contents(tools=[{"functionDeclarations": [declaration]}])
    part = mock.post(GENERATE, json=body, headers=GEMINI).json()["candidates"][0]["content"]
    assert part["parts"] == [{"functionCall": {"name": "lookup", "args": {"q": "Tell me a joke"}}}]
    streamed = sse_json(mock.post(f"{STREAM}?alt=sse", json=body, headers=GEMINI).text)
    assert streamed[0]["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "lookup"
    body["toolConfig"] = {"functionCallingConfig": {"mode": "NONE"}}
    text = mock.post(GENERATE, json=body, headers=GEMINI).json()["candidates"][0]["content"]
    assert "text" in text["parts"][0]


def test_the_key_may_come_in_the_query_string(mock: httpx.Client) -> None:
    assert mock.post(f"{GENERATE}?key=k", json=contents()).status_code == 200
    refused = mock.post(GENERATE, json=contents())
    assert refused.status_code == 401
    assert refused.json() == {
        "error": {"code": 401, "message": "Missing or invalid API key", "status": "UNAUTHENTICATED"}
    }


def test_embed_content_and_batch_embed_contents_answer_deterministic_values(
    mock: httpx.Client,
) -> None:
    one = {"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 4}
    single = mock.post("/v1beta/models/emb:embedContent", json=one, headers=GEMINI).json()
    assert len(single["embedding"]["values"]) == 4
    batch = {"requests": [{"model": "models/emb", **one}, {"model": "models/emb", **one}]}
    many = mock.post("/v1beta/models/emb:batchEmbedContents", json=batch, headers=GEMINI).json()
    assert many["embeddings"] == [single["embedding"], single["embedding"]]


def test_it_lists_models_and_refuses_bad_input_in_geminis_shapes(mock: httpx.Client) -> None:
    models = mock.get("/v1beta/models", headers=GEMINI).json()["models"]
    assert models[0]["name"] == "models/gemini-mock"
    refused = mock.post(GENERATE, json={"contents": []}, headers=GEMINI)
    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
