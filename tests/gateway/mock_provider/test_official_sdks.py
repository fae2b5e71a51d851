"""The official openai and anthropic SDKs parse the mock's answers, whole and streamed.

The best proof that the wire formats are right: the SDKs validate shapes,
accumulate streams and raise their typed errors from the mock's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import anthropic
    import openai
    from anthropic.types import MessageParam
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
else:
    # Skip, rather than fail, where the SDKs are not installed.
    openai = pytest.importorskip("openai")
    anthropic = pytest.importorskip("anthropic")

WEATHER: dict[str, object] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@pytest.fixture
def openai_client(mock_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(mock_url: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=mock_url, api_key="sk-ant", max_retries=0) as client:
        yield client


def test_the_openai_sdk_reads_a_completion_and_its_usage(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-mock", messages=[{"role": "user", "content": "Say hi"}]
    )
    assert completion.choices[0].message.content == "Mock answer to: Say hi"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 5)


def test_the_openai_sdk_reads_a_stream_with_usage(openai_client: openai.OpenAI) -> None:
    stream = openai_client.chat.completions.create(
        model="mock-chunks-6",
        messages=[{"role": "user", "content": "Say hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 6
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6


def test_the_openai_sdk_accumulates_a_streamed_tool_call(openai_client: openai.OpenAI) -> None:
    tools: list[ChatCompletionToolParam] = [
        {"type": "function", "function": {"name": "weather", "parameters": WEATHER}}
    ]
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Paris"}]
    with openai_client.chat.completions.stream(
        model="gpt-mock", messages=messages, tools=tools
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.name == "weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_the_openai_sdk_decodes_base64_embeddings(openai_client: openai.OpenAI) -> None:
    # The SDK asks for base64 unless told otherwise, and decodes it to floats.
    result = openai_client.embeddings.create(model="mock-embedding", input=["a b", "c"])
    assert [len(d.embedding) for d in result.data] == [16, 16]
    floats = openai_client.embeddings.create(
        model="mock-embedding", input=["a b", "c"], encoding_format="float"
    )
    assert result.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6)
    assert result.usage.prompt_tokens == 3


def test_the_openai_sdk_raises_its_typed_errors(openai_client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "x"}]
    with pytest.raises(openai.RateLimitError) as limited:
        openai_client.chat.completions.create(model="mock-error-429", messages=messages)
    assert limited.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(model="mock-error-500", messages=messages)
    with pytest.raises(openai.AuthenticationError):
        openai_client.chat.completions.create(
            model="gpt-mock", messages=messages, extra_headers={"Authorization": "Basic x"}
        )


def test_the_anthropic_sdk_reads_a_message(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="claude-mock", max_tokens=50, messages=[{"role": "user", "content": "Say hi"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "Mock answer to: Say hi"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 5)


def test_the_anthropic_sdk_accumulates_a_stream(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model="mock-pause-10-chunks-7",
        max_tokens=50,
        messages=[{"role": "user", "content": "Say hi"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert len(text.split()) == 7
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 7


def test_the_anthropic_sdk_accumulates_a_streamed_tool_use(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(
        model="claude-mock",
        max_tokens=50,
        tools=[{"name": "weather", "input_schema": WEATHER}],
        messages=[{"role": "user", "content": "Rome"}],
    ) as stream:
        final = stream.get_final_message()
    block = final.content[0]
    assert block.type == "tool_use"
    assert (block.name, block.input) == ("weather", {"city": "Rome"})
    assert final.stop_reason == "tool_use"


def test_the_anthropic_sdk_raises_its_typed_errors(anthropic_client: anthropic.Anthropic) -> None:
    messages: list[MessageParam] = [{"role": "user", "content": "x"}]
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client.messages.create(model="mock-error-429", max_tokens=5, messages=messages)
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        anthropic_client.messages.create(model="mock-error-529", max_tokens=5, messages=messages)
    assert overloaded.value.status_code == 529
