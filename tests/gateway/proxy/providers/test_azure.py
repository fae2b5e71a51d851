"""Azure OpenAI: OpenAI's format at deployment URLs with an api-key header."""

from __future__ import annotations

import pytest

from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.formats.openai_sse import is_usage_only
from gateway.proxy.providers import adapter_for
from gateway.proxy.providers.base import Usage
from tests.gateway.proxy.providers.wire import (
    assert_same_at_every_split,
    body_of,
    decode,
    deployment,
    fixture,
    text_of_stream,
)

KEY = "3f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d"
AZURE = deployment("azure", "gpt4o-prod", api_base="https://acme.openai.azure.com/")
adapter = adapter_for("azure")


def test_chat_goes_to_the_deployment_path_with_the_api_version_and_api_key() -> None:
    request = adapter.chat_request(
        {"model": "smart", "messages": [], "seed": 1}, AZURE, KEY, stream=True
    )
    assert request.url == (
        "https://acme.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions"
        "?api-version=2024-10-21"
    )
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    sent = body_of(request.body)
    assert sent["seed"] == 1 and sent["stream_options"] == {"include_usage": True}


def test_a_pinned_api_version_is_used() -> None:
    d = deployment(
        "azure", "emb", api_base="https://acme.openai.azure.com", api_version="2025-01-01-preview"
    )
    request = adapter.embeddings_request({"input": "x"}, d, KEY)
    assert request.url == (
        "https://acme.openai.azure.com/openai/deployments/emb/embeddings?api-version=2025-01-01-preview"
    )


@pytest.mark.parametrize(
    ("base", "version"),
    [("https://acme.openai.azure.com", "v1"), ("https://acme.openai.azure.com/openai/v1", None)],
)
def test_the_v1_api_takes_openais_own_paths(base: str, version: str | None) -> None:
    d = deployment("azure", "gpt-4o", api_base=base, api_version=version)
    request = adapter.chat_request({"messages": []}, d, KEY, stream=False)
    assert request.url == "https://acme.openai.azure.com/openai/v1/chat/completions"
    assert body_of(request.body)["model"] == "gpt-4o"


def test_azure_without_an_api_base_is_misconfigured() -> None:
    with pytest.raises(MisconfiguredDeployment):
        adapter.chat_request({"messages": []}, deployment("azure", "x"), KEY, stream=False)


def test_a_stream_with_prompt_filter_results_decodes_and_its_filter_chunk_is_not_usage() -> None:
    decoder = adapter.chat_stream("smart")
    chunks = decode(decoder, fixture("azure_content_filter_stream.sse"))
    assert chunks[0]["choices"] == [] and "prompt_filter_results" in chunks[0]
    assert not is_usage_only(chunks[0])
    assert is_usage_only(chunks[-1])
    assert text_of_stream(chunks) == "Hi"
    assert decoder.usage == Usage(input_tokens=9, output_tokens=2)
    assert_same_at_every_split(
        lambda: adapter.chat_stream("smart"), fixture("azure_content_filter_stream.sse")
    )
