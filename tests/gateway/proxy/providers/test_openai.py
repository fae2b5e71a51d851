"""The OpenAI-family adapter on recorded OpenAI (and Mistral) wire formats."""

from __future__ import annotations

import pytest

from gateway.proxy.errors import (
    MalformedAnswer,
    MisconfiguredDeployment,
    StreamProtocolError,
    UpstreamStreamError,
)
from gateway.proxy.formats.openai_sse import is_usage_only
from gateway.proxy.providers import PROVIDERS, adapter_for
from gateway.proxy.providers.base import Usage
from gateway.proxy.providers.openai import OpenAIStreamDecoder
from tests.gateway.proxy.providers.wire import (
    assert_same_at_every_split,
    body_of,
    decode,
    deployment,
    fixture,
    fixture_json,
    text_of_stream,
    tool_calls_of_stream,
)

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
OPENAI = deployment("openai", "gpt-4o-2024-08-06")


def test_it_sends_the_clients_body_with_the_model_replaced_and_the_tier_pinned() -> None:
    body = {
        "model": "smart",
        "messages": [{"role": "user", "content": "Hi"}],
        "response_format": {"type": "json_object"},
        "seed": 7,
        "logprobs": True,
        "parallel_tool_calls": False,
        "some_future_field": {"x": 1},
    }
    request = adapter_for("openai").chat_request(body, OPENAI, KEY, stream=False)
    assert request.method == "POST"
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    # No tier named: OpenAI would bill the project's default tier, which may be priority.
    pinned = {**body, "model": "gpt-4o-2024-08-06", "service_tier": "default"}
    assert body_of(request.body) == pinned
    assert body["model"] == "smart", "the caller's body is not mutated (failover reuses it)"


@pytest.mark.parametrize("tier", ["default", "flex", "priority"])
def test_a_tier_the_client_names_is_kept(tier: str) -> None:
    body = {"model": "smart", "messages": [], "service_tier": tier}
    request = adapter_for("openai").chat_request(body, OPENAI, KEY, stream=False)
    assert body_of(request.body)["service_tier"] == tier


def test_other_openai_compatible_servers_get_no_tier() -> None:
    body = {"model": "smart", "messages": []}
    request = adapter_for("groq").chat_request(body, OPENAI, KEY, stream=False)
    assert "service_tier" not in body_of(request.body)


def test_a_streamed_request_asks_for_usage_and_keeps_the_clients_stream_options() -> None:
    body = {"model": "smart", "messages": [], "stream": True, "stream_options": {"x": 1}}
    request = adapter_for("openai").chat_request(body, OPENAI, KEY, stream=True)
    sent = body_of(request.body)
    assert request.stream
    assert sent["stream"] is True
    assert sent["stream_options"] == {"x": 1, "include_usage": True}
    assert request.headers["accept"] == "text/event-stream"


def test_a_non_streamed_request_carries_no_stream_options() -> None:
    body = {"model": "smart", "messages": [], "stream": False, "stream_options": {"a": 1}}
    sent = body_of(adapter_for("openai").chat_request(body, OPENAI, KEY, stream=False).body)
    assert "stream_options" not in sent
    assert "stream" not in sent


def test_mistral_gets_max_tokens_and_is_not_sent_stream_options_it_would_refuse() -> None:
    body = {"model": "m", "messages": [], "max_completion_tokens": 50}
    request = adapter_for("mistral").chat_request(
        body, deployment("mistral", "mistral-small-latest"), KEY, stream=True
    )
    sent = body_of(request.body)
    assert request.url == "https://api.mistral.ai/v1/chat/completions"
    assert sent["max_tokens"] == 50
    assert "max_completion_tokens" not in sent
    assert "stream_options" not in sent


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("openai", "https://api.openai.com/v1/chat/completions"),
        ("mistral", "https://api.mistral.ai/v1/chat/completions"),
        ("groq", "https://api.groq.com/openai/v1/chat/completions"),
        ("deepseek", "https://api.deepseek.com/v1/chat/completions"),
        ("xai", "https://api.x.ai/v1/chat/completions"),
        ("together", "https://api.together.xyz/v1/chat/completions"),
        ("vllm", "http://localhost:8000/v1/chat/completions"),
        ("ollama", "http://localhost:11434/v1/chat/completions"),
    ],
)
def test_each_named_provider_is_reached_at_its_public_endpoint(provider: str, url: str) -> None:
    request = adapter_for(provider).chat_request(
        {"model": "a", "messages": []}, deployment(provider, "m"), KEY, stream=False
    )
    assert request.url == url


def test_a_deployments_api_base_replaces_the_public_endpoint() -> None:
    d = deployment("vllm", "meta-llama/Llama-3.1-8B-Instruct", api_base="http://gpu-1:8000/v1/")
    request = adapter_for("vllm").chat_request({"messages": []}, d, "", stream=False)
    assert request.url == "http://gpu-1:8000/v1/chat/completions"


def test_a_keyless_local_server_gets_no_authorization_header() -> None:
    request = adapter_for("ollama").chat_request(
        {"messages": []}, deployment("ollama", "llama3.2"), "", stream=False
    )
    assert "authorization" not in request.headers


def test_an_openai_compatible_deployment_without_api_base_is_misconfigured() -> None:
    with pytest.raises(MisconfiguredDeployment):
        adapter_for("openai_compatible").chat_request(
            {"messages": []}, deployment("openai_compatible", "m"), KEY, stream=False
        )


def test_every_provider_name_of_the_brief_is_registered() -> None:
    names = {"openai", "openai_compatible", "mistral", "groq", "deepseek", "xai", "together"}
    assert names | {"vllm", "ollama", "azure", "anthropic"} <= set(PROVIDERS)


def test_an_answer_comes_back_under_the_alias_with_its_usage() -> None:
    answer, usage = adapter_for("openai").chat_response(fixture("openai_chat.json"), "smart")
    original = fixture_json("openai_chat.json")
    assert answer == {**original, "model": "smart"}
    assert usage == Usage(
        input_tokens=1919, output_tokens=210, cached_input_tokens=1792, reasoning_tokens=192
    )


def test_a_tool_call_answer_passes_through_unchanged() -> None:
    answer, usage = adapter_for("openai").chat_response(fixture("openai_tool_calls.json"), "a")
    call = answer["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {
        "name": "get_current_weather",
        "arguments": '{\n"location": "Boston, MA"\n}',
    }
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert usage.input_tokens == 82 and usage.output_tokens == 17


def test_an_answer_that_is_not_a_completion_is_malformed() -> None:
    with pytest.raises(MalformedAnswer):
        adapter_for("openai").chat_response(b'{"object": "list"}', "a")
    with pytest.raises(MalformedAnswer):
        adapter_for("openai").chat_response(b"<html>", "a")


def test_a_stream_decodes_to_the_providers_chunks_under_the_alias() -> None:
    decoder = adapter_for("openai").chat_stream("smart")
    chunks = decode(decoder, fixture("openai_stream.sse"))
    assert text_of_stream(chunks) == "Hello wörld! ✓"
    assert all(c["model"] == "smart" for c in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]][-1] == "stop"
    assert all("usage" not in c for c in chunks[:-1]), "content chunks carry no usage key"
    assert is_usage_only(chunks[-1])
    assert not any(is_usage_only(c) for c in chunks[:-1])
    assert chunks[-1]["usage"]["prompt_tokens"] == 1200
    assert decoder.usage == Usage(input_tokens=1200, output_tokens=9, cached_input_tokens=1024)


@pytest.mark.parametrize("name", ["openai_stream.sse", "openai_tool_stream.sse"])
def test_a_stream_split_at_every_byte_decodes_the_same_as_whole(name: str) -> None:
    assert_same_at_every_split(lambda: OpenAIStreamDecoder("a"), fixture(name))


def test_a_streamed_tool_call_reassembles_into_its_arguments() -> None:
    chunks = decode(OpenAIStreamDecoder("a"), fixture("openai_tool_stream.sse"))
    assert tool_calls_of_stream(chunks) == {
        0: {
            "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
            "name": "get_weather",
            "arguments": '{"location":"Paris, France"}',
        }
    }


def test_usage_on_a_content_chunk_moves_to_a_usage_only_chunk_of_its_own() -> None:
    decoder = OpenAIStreamDecoder("small")
    chunks = decode(decoder, fixture("mistral_stream.sse"))
    assert decoder.usage == Usage(input_tokens=10, output_tokens=3)
    assert [is_usage_only(c) for c in chunks] == [False, False, False, True]
    assert "usage" not in chunks[2]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[3]["usage"] == {"prompt_tokens": 10, "total_tokens": 13, "completion_tokens": 3}


def test_a_stream_that_ends_before_done_is_a_protocol_error() -> None:
    stream = fixture("openai_stream.sse").replace(b"data: [DONE]\n\n", b"")
    with pytest.raises(StreamProtocolError, match="DONE"):
        decode(OpenAIStreamDecoder("a"), stream)


def test_a_stream_cut_in_the_middle_of_a_line_is_a_protocol_error() -> None:
    stream = fixture("openai_stream.sse")
    with pytest.raises(StreamProtocolError):
        decode(OpenAIStreamDecoder("a"), stream[:200])


def test_a_chunk_of_malformed_json_is_a_protocol_error() -> None:
    with pytest.raises(StreamProtocolError, match="not valid JSON"):
        decode(OpenAIStreamDecoder("a"), b'data: {"id": "x", "choices": [\n\n')


def test_an_error_event_inside_a_stream_is_raised_with_the_providers_message() -> None:
    stream = b'data: {"error": {"message": "The server had an error", "type": "server_error"}}\n\n'
    with pytest.raises(UpstreamStreamError) as raised:
        decode(OpenAIStreamDecoder("a"), stream)
    assert raised.value.error.message == "The server had an error"
    assert raised.value.error.type == "server_error"


def test_embeddings_are_sent_to_the_embeddings_path_and_come_back_under_the_alias() -> None:
    adapter = adapter_for("openai")
    body = {"model": "embed", "input": ["hello"], "encoding_format": "base64", "dimensions": 256}
    request = adapter.embeddings_request(body, deployment("openai", "text-embedding-3-small"), KEY)
    assert request.url == "https://api.openai.com/v1/embeddings"
    assert body_of(request.body) == {**body, "model": "text-embedding-3-small"}
    answer, usage = adapter.embeddings_response(fixture("openai_embeddings.json"), "embed")
    assert answer["model"] == "embed"
    assert answer["data"][0]["embedding"] == [0.0023064255, -0.009327292, -0.0028842222]
    assert usage == Usage(input_tokens=8)


def test_a_null_tier_is_pinned_too() -> None:
    """OpenAI reads null as 'auto', the project's default tier."""
    body: dict[str, object] = {"model": "smart", "messages": [], "service_tier": None}
    request = adapter_for("openai").chat_request(body, OPENAI, KEY, stream=False)
    assert body_of(request.body)["service_tier"] == "default"
